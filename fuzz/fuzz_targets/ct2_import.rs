//! Any bytes as a CTranslate2 export's `model.bin` (beside a valid vocabulary): the import
//! fails with an error or writes a model, never panics.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// One directory per process, with the vocabulary written once.
fn export_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("steno-fuzz-ct2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let vocab: String = (0..51_864).map(|i| format!("t{i}\n")).collect();
        std::fs::write(dir.join("vocabulary.txt"), vocab).unwrap();
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = export_dir();
    std::fs::write(dir.join("model.bin"), data).unwrap();
    let _ = steno::model::Model::import_ct2(dir, dir.join("out.bin"));
});
