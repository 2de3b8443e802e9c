//! whisper.cpp parameter templates, one per (decoding, language) for the whole process.
//!
//! whisper-rs copies a language given to `FullParams::set_language` into a C string it never
//! frees. Setting it once per (decoding, language) pair on a template, and cloning the
//! template for each call (a clone shares the string), bounds that to one small string per
//! pair: languages come from whisper.cpp's list and beam sizes are checked, so the set is
//! finite.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use whisper_rs::{FullParams, SamplingStrategy};

use super::Decoding;

use super::options::MAX_BEAMS;

/// Fresh parameters for `decoding` in `language` (a code whisper.cpp knows).
pub(crate) fn params(decoding: Decoding, language: &str) -> FullParams<'static, 'static> {
    // Each template has only the sampling strategy and the language set.
    type Templates = HashMap<(Decoding, String), FullParams<'static, 'static>>;
    static TEMPLATES: OnceLock<Mutex<Templates>> = OnceLock::new();
    let mut templates = TEMPLATES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(t) = templates.get(&(decoding, language.to_string())) {
        return t.clone();
    }
    let strategy = match decoding {
        Decoding::Greedy => SamplingStrategy::Greedy { best_of: 5 },
        Decoding::Beam(n) => SamplingStrategy::BeamSearch {
            beam_size: n.clamp(1, MAX_BEAMS) as i32,
            patience: -1.0,
        },
    };
    let mut params = FullParams::new(strategy);
    // "en" is whisper.cpp's default; any other language is copied (once) by whisper-rs.
    if language != "en" {
        params.set_language(Some(Box::leak(language.to_owned().into_boxed_str())));
    }
    let fresh = params.clone();
    templates.insert((decoding, language.to_string()), params);
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_made_once_per_pair_and_clones_share_its_language() {
        // The debug form shows the raw parameters, the language's C-string pointer included:
        // a second copy of the string would differ.
        let shown = |p: FullParams| format!("{p:?}");
        let a = shown(params(Decoding::Beam(3), "de"));
        assert!(a.contains("language: 0x"), "{a}");
        assert_eq!(a, shown(params(Decoding::Beam(3), "de")));
        assert_ne!(a, shown(params(Decoding::Greedy, "de")));
        assert_ne!(a, shown(params(Decoding::Beam(3), "fr")));
    }
}
