//! Where audio comes from: a path, bytes in memory, a reader, or raw PCM samples.

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use symphonia::core::io::{
    MediaSource, MediaSourceStream, MediaSourceStreamOptions, ReadOnlySource,
};

use crate::error::{Error, Result};

/// Interleaved PCM samples handed over by the caller.
#[derive(Clone, Debug)]
pub enum PcmSamples {
    /// 32-bit float samples, nominally in `[-1, 1]`.
    F32(Vec<f32>),
    /// Signed 16-bit samples.
    I16(Vec<i16>),
}

impl PcmSamples {
    /// Number of samples over all channels.
    pub fn len(&self) -> usize {
        match self {
            PcmSamples::F32(v) => v.len(),
            PcmSamples::I16(v) => v.len(),
        }
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Raw interleaved PCM with its sample rate and channel count.
#[derive(Clone, Debug)]
pub struct Pcm {
    /// The samples, interleaved frame by frame.
    pub samples: PcmSamples,
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels per frame.
    pub channels: u16,
}

type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

pub(crate) enum Origin {
    Path(PathBuf),
    Bytes(SharedBytes),
    Reader(Box<dyn MediaSource>),
    Pcm(Pcm),
}

/// An audio input: any common audio file as a path, bytes or a reader, or raw PCM.
///
/// ```
/// use stenograph::audio::AudioSource;
/// let upload: Vec<u8> = std::fs::read("Cargo.toml").unwrap();
/// let src = AudioSource::from_bytes(upload).named("upload.mp3");
/// assert_eq!(src.name(), "upload.mp3");
/// ```
pub struct AudioSource {
    pub(crate) origin: Origin,
    name: Option<String>,
}

impl fmt::Debug for AudioSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioSource")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

impl AudioSource {
    /// A file on disk; its extension helps format detection.
    pub fn from_path(path: impl AsRef<Path>) -> Self {
        Self::new(Origin::Path(path.as_ref().to_path_buf()))
    }

    /// A complete file held in memory (an HTTP upload, a database blob). The buffer is shared,
    /// not copied.
    pub fn from_bytes(bytes: impl AsRef<[u8]> + Send + Sync + 'static) -> Self {
        Self::new(Origin::Bytes(Arc::new(bytes)))
    }

    /// Any seekable reader holding a complete file; reading starts at its first byte.
    pub fn from_reader(reader: impl Read + Seek + Send + Sync + 'static) -> Self {
        Self::new(Origin::Reader(Box::new(SeekableReader::new(reader))))
    }

    /// A reader that cannot seek (a pipe, a socket); formats that need seeking to find their
    /// index (some MP4 files) may fail on it.
    pub fn from_stream(reader: impl Read + Send + Sync + 'static) -> Self {
        Self::new(Origin::Reader(Box::new(ReadOnlySource::new(reader))))
    }

    /// Raw interleaved PCM samples.
    pub fn from_pcm(pcm: Pcm) -> Self {
        Self::new(Origin::Pcm(pcm))
    }

    /// Interleaved 32-bit float PCM at `sample_rate` with `channels` channels.
    pub fn from_pcm_f32(samples: Vec<f32>, sample_rate: u32, channels: u16) -> Self {
        Self::from_pcm(Pcm {
            samples: PcmSamples::F32(samples),
            sample_rate,
            channels,
        })
    }

    /// Interleaved signed 16-bit PCM at `sample_rate` with `channels` channels.
    pub fn from_pcm_i16(samples: Vec<i16>, sample_rate: u32, channels: u16) -> Self {
        Self::from_pcm(Pcm {
            samples: PcmSamples::I16(samples),
            sample_rate,
            channels,
        })
    }

    /// Names the input for error messages; a file extension in the name (`call.mp3`) also
    /// guides format detection for bytes and readers.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The name used in messages: the caller's name, else the path, else a description.
    pub fn name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match &self.origin {
            Origin::Path(p) => p.display().to_string(),
            Origin::Bytes(b) => format!("<bytes: {}>", (**b).as_ref().len()),
            Origin::Reader(_) => "<reader>".to_string(),
            Origin::Pcm(p) => format!("<pcm: {} samples>", p.samples.len()),
        }
    }

    /// The file extension that hints the format, if any.
    pub(crate) fn extension(&self) -> Option<String> {
        let from_name = self
            .name
            .as_deref()
            .and_then(|n| Path::new(n).extension())
            .and_then(|e| e.to_str());
        let from_path = match &self.origin {
            Origin::Path(p) => p.extension().and_then(|e| e.to_str()),
            _ => None,
        };
        from_name.or(from_path).map(str::to_ascii_lowercase)
    }

    fn new(origin: Origin) -> Self {
        Self { origin, name: None }
    }

    /// Opens a container input as a symphonia stream; fails on empty or unreadable inputs.
    pub(crate) fn open_stream(origin: Origin, input: &str) -> Result<MediaSourceStream<'static>> {
        let source: Box<dyn MediaSource> = match origin {
            Origin::Path(path) => {
                let file = std::fs::File::open(&path).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
                let len = file
                    .metadata()
                    .map_err(|source| Error::Io { path, source })?
                    .len();
                if len == 0 {
                    return Err(Error::EmptyInput {
                        input: input.to_string(),
                    });
                }
                Box::new(file)
            }
            Origin::Bytes(bytes) => {
                if (*bytes).as_ref().is_empty() {
                    return Err(Error::EmptyInput {
                        input: input.to_string(),
                    });
                }
                Box::new(std::io::Cursor::new(BytesRef(bytes)))
            }
            Origin::Reader(reader) => {
                if reader.byte_len() == Some(0) {
                    return Err(Error::EmptyInput {
                        input: input.to_string(),
                    });
                }
                reader
            }
            Origin::Pcm(_) => unreachable!("PCM inputs are not containers"),
        };
        Ok(MediaSourceStream::new(
            source,
            MediaSourceStreamOptions::default(),
        ))
    }
}

impl From<&Path> for AudioSource {
    fn from(path: &Path) -> Self {
        Self::from_path(path)
    }
}

impl From<PathBuf> for AudioSource {
    fn from(path: PathBuf) -> Self {
        Self::from_path(path)
    }
}

impl From<&str> for AudioSource {
    fn from(path: &str) -> Self {
        Self::from_path(path)
    }
}

impl From<Vec<u8>> for AudioSource {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from_bytes(bytes)
    }
}

impl From<Pcm> for AudioSource {
    fn from(pcm: Pcm) -> Self {
        Self::from_pcm(pcm)
    }
}

struct BytesRef(SharedBytes);

impl AsRef<[u8]> for BytesRef {
    fn as_ref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

/// Adapts any `Read + Seek` to symphonia's `MediaSource`, learning the length by seeking.
struct SeekableReader<R> {
    inner: R,
    len: Option<u64>,
}

impl<R: Read + Seek> SeekableReader<R> {
    fn new(mut inner: R) -> Self {
        let len = (|| {
            let end = inner.seek(SeekFrom::End(0))?;
            inner.seek(SeekFrom::Start(0))?;
            Ok::<_, std::io::Error>(end)
        })()
        .ok();
        Self { inner, len }
    }
}

impl<R: Read> Read for SeekableReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for SeekableReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: Read + Seek + Send + Sync> MediaSource for SeekableReader<R> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        self.len
    }
}
