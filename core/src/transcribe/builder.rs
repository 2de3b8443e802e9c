//! Building a [`Transcriber`]: which model, where, how many calls at once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::live::{PartialWeights, Preview};
use super::pool::StatePool;
use super::vad::{Detector, Silero};
use super::{Inner, Transcriber};
use crate::device::Device;
use crate::error::Result;
use crate::model::{fetch_vad_weights, FetchOptions, Model, VAD_ENV};

/// The default model name.
pub const DEFAULT_MODEL: &str = "tiny.en";

/// The model to build a [`Transcriber`] on.
#[derive(Debug)]
pub enum ModelRef {
    /// A registry name (fetched into the cache if needed), a ggml path, or an export directory.
    Name(String),
    /// An already loaded model (its device is the one it was loaded on).
    Loaded(Model),
}

impl From<&str> for ModelRef {
    fn from(s: &str) -> Self {
        ModelRef::Name(s.to_string())
    }
}

impl From<String> for ModelRef {
    fn from(s: String) -> Self {
        ModelRef::Name(s)
    }
}

impl From<&Path> for ModelRef {
    fn from(p: &Path) -> Self {
        ModelRef::Name(p.display().to_string())
    }
}

impl From<Model> for ModelRef {
    fn from(m: Model) -> Self {
        ModelRef::Loaded(m)
    }
}

/// Builds a [`Transcriber`].
#[derive(Debug)]
pub struct TranscriberBuilder {
    model: ModelRef,
    device: Device,
    states: Option<usize>,
    threads_per_state: usize,
    vad_weights: Option<PathBuf>,
    partial_weights: PartialWeights,
}

/// The Silero network found in the cache or fetched, shared by every transcriber of the
/// process, or why it could not be had (looked for once per process).
fn default_silero() -> &'static std::result::Result<Arc<Silero>, String> {
    static NET: OnceLock<std::result::Result<Arc<Silero>, String>> = OnceLock::new();
    NET.get_or_init(|| {
        fetch_vad_weights(&FetchOptions::default())
            .and_then(|path| Silero::load(&path))
            .map(Arc::new)
            .map_err(|e| e.to_string())
    })
}

impl Default for TranscriberBuilder {
    fn default() -> Self {
        Self {
            model: ModelRef::Name(DEFAULT_MODEL.into()),
            device: Device::Auto,
            states: None,
            threads_per_state: 1,
            vad_weights: None,
            partial_weights: PartialWeights::Auto,
        }
    }
}

impl TranscriberBuilder {
    /// The model: a name, a path, or a loaded [`Model`] (default `tiny.en`).
    pub fn model(mut self, model: impl Into<ModelRef>) -> Self {
        self.model = model.into();
        self
    }

    /// Where to run (default [`Device::Auto`]).
    pub fn device(mut self, device: Device) -> Self {
        self.device = device;
        self
    }

    /// Most transcriptions running at once, each with its own decoder state (default: the
    /// number of CPU cores; further calls wait).
    pub fn max_concurrent(mut self, n: usize) -> Self {
        self.states = Some(n.max(1));
        self
    }

    /// CPU threads inside each transcription (default 1: on small machines one thread per
    /// call and one call per core gives the most throughput).
    pub fn threads_per_call(mut self, n: usize) -> Self {
        self.threads_per_state = n.max(1);
        self
    }

    /// The Silero VAD v6 weights (`silero_vad_v6.onnx`) to find speech with. Default:
    /// `$STENOGRAPH_VAD_MODEL`, else the model cache, else fetched from PyPI (faster-whisper's
    /// wheel); if none of these works, the built-in earshot detector, and every transcript made
    /// with VAD on carries a [`Warning::BuiltInVad`](crate::audio::Warning::BuiltInVad).
    /// Weights named here or in `$STENOGRAPH_VAD_MODEL` that do not load fail the build.
    pub fn vad_weights(mut self, path: impl Into<PathBuf>) -> Self {
        self.vad_weights = Some(path.into());
        self
    }

    /// The weights live streams' partial decodes run on (default [`PartialWeights::Auto`]: a
    /// q8_0 copy of an f16 or f32 model, made in memory when the first stream opens; final
    /// text always comes from the model's own weights).
    pub fn partial_weights(mut self, weights: PartialWeights) -> Self {
        self.partial_weights = weights;
        self
    }

    /// Loads (or fetches) the model and makes the transcriber.
    pub fn build(self) -> Result<Transcriber> {
        // A device this build cannot use is refused even for a model already loaded.
        self.device.gpu()?;
        let model = match self.model {
            ModelRef::Loaded(m) => m,
            ModelRef::Name(name) => Model::resolve_on(&name, self.device)?,
        };
        let states = self.states.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        let named = self.vad_weights.or_else(|| {
            std::env::var_os(VAD_ENV)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
        });
        let (vad, vad_fallback) = match named {
            Some(path) => (Detector::Silero(Arc::new(Silero::load(&path)?)), None),
            None => match default_silero() {
                Ok(net) => (Detector::Silero(net.clone()), None),
                Err(reason) => (Detector::Earshot, Some(reason.clone())),
            },
        };
        let pool = StatePool::new(model.context().clone(), states);
        let live_pool = StatePool::new(model.context().clone(), states);
        let preview = Arc::new(Preview::new(model.clone(), self.partial_weights, states));
        Ok(Transcriber {
            inner: Arc::new(Inner {
                model,
                pool,
                live_pool,
                preview,
                live_first: Default::default(),
                live_streams: Default::default(),
                vad,
                vad_fallback,
                threads: self.threads_per_state,
                background: Default::default(),
            }),
        })
    }
}
