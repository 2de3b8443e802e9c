//! Where inference runs: the CPU, or a GPU in builds with a GPU back end.

use crate::error::{Error, Result};

/// Whether this build has a GPU back end (features `cuda`, `vulkan`, `metal`).
pub const GPU_BUILD: bool = cfg!(any(feature = "cuda", feature = "vulkan", feature = "metal"));

/// Where inference runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Device {
    /// The GPU when the build has a GPU back end, else the CPU (default).
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// GPU number `n` (builds with a GPU back end only).
    Gpu(usize),
}

impl Device {
    /// The GPU to load onto, or `None` for the CPU; `Error::Device` for a GPU in a CPU-only
    /// build.
    pub(crate) fn gpu(self) -> Result<Option<usize>> {
        match self {
            Device::Cpu => Ok(None),
            Device::Auto => Ok(GPU_BUILD.then_some(0)),
            Device::Gpu(i) if GPU_BUILD => Ok(Some(i)),
            Device::Gpu(i) => Err(Error::Device(format!(
                "GPU {i} requested, but this build has no GPU back end (build with the cuda, vulkan or metal feature)"
            ))),
        }
    }
}

impl std::str::FromStr for Device {
    type Err = Error;

    /// "auto", "cpu", "gpu" (GPU 0) or "gpu:N" ("cuda" and "cuda:N" are accepted too).
    fn from_str(spec: &str) -> Result<Self> {
        match spec {
            "auto" => Ok(Device::Auto),
            "cpu" => Ok(Device::Cpu),
            "gpu" | "cuda" => Ok(Device::Gpu(0)),
            other => other
                .strip_prefix("gpu:")
                .or_else(|| other.strip_prefix("cuda:"))
                .and_then(|n| n.parse().ok())
                .map(Device::Gpu)
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "device must be 'auto', 'cpu', 'gpu' or 'gpu:N', not '{other}'"
                    ))
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!("auto".parse::<Device>().unwrap(), Device::Auto);
        assert_eq!("cpu".parse::<Device>().unwrap(), Device::Cpu);
        assert_eq!("cuda:2".parse::<Device>().unwrap(), Device::Gpu(2));
        assert_eq!("gpu".parse::<Device>().unwrap(), Device::Gpu(0));
        assert!(matches!(
            "gpu:x".parse::<Device>(),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn gpu_needs_a_gpu_build() {
        assert_eq!(Device::Cpu.gpu().unwrap(), None);
        assert_eq!(Device::Auto.gpu().unwrap(), GPU_BUILD.then_some(0));
        match Device::Gpu(1).gpu() {
            Ok(g) => assert!(GPU_BUILD && g == Some(1)),
            Err(e) => assert!(!GPU_BUILD && matches!(e, Error::Device(_))),
        }
    }
}
