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

/// A GPU that this build's back end found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gpu {
    /// Its number, as in [`Device::Gpu`].
    pub index: usize,
    /// The back end's name for it (e.g. `CUDA0`).
    pub name: String,
    /// The device's own description (e.g. `NVIDIA H200`).
    pub description: String,
    /// Its memory, in bytes.
    pub memory: usize,
}

/// The GPUs this build can run on (none in a CPU-only build, or where the GPU back end finds
/// no device or no driver), numbered as [`Device::Gpu`] numbers them.
pub fn gpus() -> Vec<Gpu> {
    use whisper_rs::whisper_rs_sys as sys;
    if !GPU_BUILD {
        return Vec::new();
    }
    let text = |p: *const std::os::raw::c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: ggml returns NUL-terminated strings that live as long as the device.
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned()
        }
    };
    crate::model::route_native_logs();
    let mut found = Vec::new();
    // SAFETY: ggml's device registry is built once, on first use, and only read here.
    unsafe {
        for i in 0..sys::ggml_backend_dev_count() {
            let dev = sys::ggml_backend_dev_get(i);
            let kind = sys::ggml_backend_dev_type(dev);
            if kind == sys::ggml_backend_dev_type_GGML_BACKEND_DEVICE_TYPE_GPU
                || kind == sys::ggml_backend_dev_type_GGML_BACKEND_DEVICE_TYPE_IGPU
            {
                let (mut free, mut total) = (0usize, 0usize);
                sys::ggml_backend_dev_memory(dev, &mut free, &mut total);
                found.push(Gpu {
                    index: found.len(),
                    name: text(sys::ggml_backend_dev_name(dev)),
                    description: text(sys::ggml_backend_dev_description(dev)),
                    memory: total,
                });
            }
        }
    }
    found
}

/// The build of ggml's CPU backend that runs inference on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuBackend {
    /// Which build was picked: on x86-64 Linux `baseline` (x86-64-v2: SSE4.2) or the variant
    /// for a newer CPU (`haswell`: AVX2; `alderlake`: AVX2 and AVX-VNNI; `skylakex`: AVX-512;
    /// `icelake`: AVX-512 with VBMI and VNNI; `zen4`: those and BF16); `native` in a build for
    /// the build machine's CPU (`GGML_NATIVE=ON`); `default` elsewhere.
    pub variant: String,
    /// The instruction sets and kernels that build uses (ggml's names: `SSE3`, `AVX2`,
    /// `AVX512`, `AVX512_VNNI`, `LLAMAFILE`, …).
    pub features: Vec<String>,
}

/// The CPU backend ggml picked for this CPU. On x86-64 Linux one library carries a baseline
/// build and builds for newer instruction sets; the one with the most instruction sets this
/// CPU (and its OS) supports runs. `GGML_CPU_VARIANT=<variant>` or `=baseline` in the
/// environment, read when ggml's backend registry is first used (the first model load or
/// this call), narrows the choice.
pub fn cpu_backend() -> CpuBackend {
    use std::ffi::CStr;
    use whisper_rs::whisper_rs_sys as sys;
    type GetFeatures =
        unsafe extern "C" fn(sys::ggml_backend_reg_t) -> *const sys::ggml_backend_feature;
    crate::model::route_native_logs();
    let mut found = CpuBackend {
        variant: "default".to_string(),
        features: Vec::new(),
    };
    // SAFETY: ggml's backend registry is built once, on first use, and only read here; the
    // CPU backend's feature list is a static array ended by a null name.
    unsafe {
        let reg = sys::ggml_backend_reg_by_name(c"CPU".as_ptr());
        if reg.is_null() {
            return found;
        }
        let get =
            sys::ggml_backend_reg_get_proc_address(reg, c"ggml_backend_get_features".as_ptr());
        if get.is_null() {
            return found;
        }
        let get: GetFeatures = std::mem::transmute(get);
        let mut feature = get(reg);
        while !feature.is_null() && !(*feature).name.is_null() {
            let name = CStr::from_ptr((*feature).name)
                .to_string_lossy()
                .into_owned();
            let value = if (*feature).value.is_null() {
                String::new()
            } else {
                CStr::from_ptr((*feature).value)
                    .to_string_lossy()
                    .into_owned()
            };
            if name == "VARIANT" {
                found.variant = value;
            } else if value == "1" {
                found.features.push(name);
            }
            feature = feature.add(1);
        }
    }
    found
}

impl Device {
    /// The GPU to load onto, or `None` for the CPU. `Auto` is GPU 0 when there is one, else
    /// the CPU; a GPU asked for by number that this build cannot use (a CPU-only build, no
    /// such device, no driver) is `Error::Device`.
    pub(crate) fn gpu(self) -> Result<Option<usize>> {
        match self {
            Device::Cpu => Ok(None),
            Device::Auto => Ok((GPU_BUILD && !gpus().is_empty()).then_some(0)),
            Device::Gpu(i) if !GPU_BUILD => Err(Error::Device(format!(
                "GPU {i} requested, but this build has no GPU back end (build with the cuda, vulkan or metal feature)"
            ))),
            Device::Gpu(i) => {
                let found = gpus();
                if i < found.len() {
                    Ok(Some(i))
                } else {
                    Err(Error::Device(format!(
                        "GPU {i} requested, but the GPU back end found {} (is the driver installed?)",
                        match found.len() {
                            0 => "none".to_string(),
                            1 => "only GPU 0".to_string(),
                            n => format!("GPUs 0 to {}", n - 1),
                        }
                    )))
                }
            }
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
    fn the_cpu_backend_names_its_build_and_instruction_sets() {
        let cpu = cpu_backend();
        assert!(!cpu.variant.is_empty());
        assert!(!cpu.features.is_empty(), "{cpu:?}");
        if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
            // Every x86-64 build uses at least SSE3; the portable build names its choice.
            assert!(cpu.features.iter().any(|f| f == "SSE3"), "{cpu:?}");
            let known = [
                "baseline",
                "haswell",
                "alderlake",
                "skylakex",
                "icelake",
                "zen4",
                "native",
            ];
            assert!(known.contains(&cpu.variant.as_str()), "{cpu:?}");
            let has = |f: &str| cpu.features.iter().any(|x| x == f);
            match cpu.variant.as_str() {
                "baseline" => assert!(!has("AVX"), "{cpu:?}"),
                "haswell" | "alderlake" => assert!(has("AVX2") && !has("AVX512"), "{cpu:?}"),
                "skylakex" | "icelake" | "zen4" => assert!(has("AVX512"), "{cpu:?}"),
                _ => {}
            }
        }
    }

    #[test]
    fn a_gpu_is_used_only_where_there_is_one() {
        let found = gpus();
        assert!(GPU_BUILD || found.is_empty());
        assert_eq!(Device::Cpu.gpu().unwrap(), None);
        assert_eq!(
            Device::Auto.gpu().unwrap(),
            (!found.is_empty()).then_some(0)
        );
        match Device::Gpu(1).gpu() {
            Ok(g) => assert!(found.len() > 1 && g == Some(1)),
            Err(Error::Device(msg)) => {
                assert!(found.len() <= 1, "{msg}");
                let why = if GPU_BUILD {
                    "found"
                } else {
                    "no GPU back end"
                };
                assert!(msg.contains(why), "{msg}");
            }
            Err(e) => panic!("{e}"),
        }
    }
}
