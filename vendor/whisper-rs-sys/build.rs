#![allow(clippy::uninlined_format_args)]

extern crate bindgen;
extern crate semver;

use cmake::Config;
use std::env;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

fn main() {
    let target = env::var("TARGET").unwrap();
    // Link C++ standard library
    if let Some(cpp_stdlib) = get_cpp_link_stdlib(&target) {
        println!("cargo:rustc-link-lib=dylib={}", cpp_stdlib);
    }
    // Link macOS Accelerate framework for matrix calculations
    if target.contains("apple") {
        println!("cargo:rustc-link-lib=framework=Accelerate");
        #[cfg(feature = "coreml")]
        {
            println!("cargo:rustc-link-lib=framework=Foundation");
            println!("cargo:rustc-link-lib=framework=CoreML");
        }
        #[cfg(feature = "metal")]
        {
            println!("cargo:rustc-link-lib=framework=Foundation");
            println!("cargo:rustc-link-lib=framework=Metal");
            println!("cargo:rustc-link-lib=framework=MetalKit");
        }
    }

    #[cfg(feature = "coreml")]
    println!("cargo:rustc-link-lib=static=whisper.coreml");

    #[cfg(feature = "openblas")]
    {
        if let Ok(openblas_path) = env::var("OPENBLAS_PATH") {
            println!(
                "cargo::rustc-link-search={}",
                PathBuf::from(openblas_path).join("lib").display()
            );
        }
        if cfg!(windows) {
            println!("cargo:rustc-link-lib=libopenblas");
        } else {
            println!("cargo:rustc-link-lib=openblas");
        }
        if use_dnnl() {
            // oneDNN as Debian and Ubuntu build it runs on OpenMP; its thread count is set
            // through libgomp.
            println!("cargo:rustc-link-lib=dnnl");
            println!("cargo:rustc-link-lib=gomp");
        }
    }
    #[cfg(feature = "cuda")]
    {
        println!("cargo:rustc-link-lib=cublas");
        println!("cargo:rustc-link-lib=cudart");
        println!("cargo:rustc-link-lib=cublasLt");
        println!("cargo:rustc-link-lib=cuda");
        cfg_if::cfg_if! {
            if #[cfg(target_os = "windows")] {
                let cuda_path = PathBuf::from(env::var("CUDA_PATH").unwrap()).join("lib/x64");
                println!("cargo:rustc-link-search={}", cuda_path.display());
            } else {
                // The toolkit named by CUDA_PATH first, then the usual install places. The
                // driver library comes from a toolkit's stubs at link time (the installed
                // driver's at run time); culibos only where the toolkit has it (the
                // dynamically linked cuBLAS does not need it).
                println!("cargo:rerun-if-env-changed=CUDA_PATH");
                let mut roots: Vec<PathBuf> =
                    env::var_os("CUDA_PATH").map(PathBuf::from).into_iter().collect();
                roots.push(PathBuf::from("/usr/local/cuda"));
                roots.push(PathBuf::from("/opt/cuda"));
                let dirs: Vec<PathBuf> = roots
                    .iter()
                    .flat_map(|r| [r.join("lib64"), r.join("lib64/stubs")])
                    .collect();
                if dirs.iter().any(|d| d.join("libculibos.a").exists()) {
                    println!("cargo:rustc-link-lib=culibos");
                }
                for dir in &dirs {
                    println!("cargo:rustc-link-search={}", dir.display());
                }
            }
        }
    }
    #[cfg(feature = "hipblas")]
    {
        println!("cargo:rustc-link-lib=hipblas");
        println!("cargo:rustc-link-lib=rocblas");
        println!("cargo:rustc-link-lib=amdhip64");

        cfg_if::cfg_if! {
            if #[cfg(target_os = "windows")] {
                panic!("Due to a problem with the last revision of the ROCm 5.7 library, it is not possible to compile the library for the windows environment.\nSee https://github.com/ggerganov/whisper.cpp/issues/2202 for more details.")
            } else {
                println!("cargo:rerun-if-env-changed=HIP_PATH");

                let hip_path = match env::var("HIP_PATH") {
                    Ok(path) =>PathBuf::from(path),
                    Err(_) => PathBuf::from("/opt/rocm"),
                };
                let hip_lib_path = hip_path.join("lib");

                println!("cargo:rustc-link-search={}",hip_lib_path.display());
            }
        }
    }

    #[cfg(feature = "openmp")]
    {
        if target.contains("gnu") {
            println!("cargo:rustc-link-lib=gomp");
        } else if target.contains("apple") {
            println!("cargo:rustc-link-lib=omp");
            println!("cargo:rustc-link-search=/opt/homebrew/opt/libomp/lib");
        }
    }

    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=whisper.cpp");

    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let whisper_root = out.join("whisper.cpp");

    // A stale copy would build old sources after an edit of ./whisper.cpp: copy afresh.
    if whisper_root.exists() {
        std::fs::remove_dir_all(&whisper_root).unwrap_or_else(|e| {
            panic!("Failed to remove {}: {}", whisper_root.display(), e)
        });
    }
    {
        std::fs::create_dir_all(&whisper_root).unwrap();
        fs_extra::dir::copy("./whisper.cpp", &out, &Default::default()).unwrap_or_else(|e| {
            panic!(
                "Failed to copy whisper sources into {}: {}",
                whisper_root.display(),
                e
            )
        });
    }

    if env::var("WHISPER_DONT_GENERATE_BINDINGS").is_ok() {
        let _: u64 = std::fs::copy("src/bindings.rs", out.join("bindings.rs"))
            .expect("Failed to copy bindings.rs");
    } else {
        // https://github.com/rust-lang/rust-bindgen/issues/2691
        // https://github.com/rust-lang/rust-bindgen/issues/3264
        // https://gitlab.freedesktop.org/gstreamer/gst-plugins-rs/-/issues/779
        let package_msrv = match option_env!("CARGO_PKG_RUST_VERSION") {
            Some(v) if !v.is_empty() => {
                let v = semver::Version::parse(v).expect("Invalid CARGO_PKG_RUST_VERSION");
                bindgen::RustTarget::stable(v.minor, v.patch)
            }
            // as_chunks in utilities.rs requires 1.88+
            _ => bindgen::RustTarget::stable(88, 0),
        }
        .map_err(|v| v.to_string())
        .unwrap();

        let mut bindings = bindgen::Builder::default()
            .rust_edition(bindgen::RustEdition::Edition2021)
            .rust_target(package_msrv)
            .header("wrapper.h");

        #[cfg(feature = "metal")]
        {
            bindings = bindings.header("whisper.cpp/ggml/include/ggml-metal.h");
        }
        #[cfg(feature = "vulkan")]
        {
            bindings = bindings
                .header("whisper.cpp/ggml/include/ggml-vulkan.h")
                .clang_arg("-DGGML_USE_VULKAN=1");
        }

        let bindings = bindings
            .clang_arg("-I./whisper.cpp/")
            .clang_arg("-I./whisper.cpp/include")
            .clang_arg("-I./whisper.cpp/ggml/include")
            .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
            .generate();

        match bindings {
            Ok(b) => {
                let out_path = PathBuf::from(env::var("OUT_DIR").unwrap());
                b.write_to_file(out_path.join("bindings.rs"))
                    .expect("Couldn't write bindings!");
            }
            Err(e) => {
                println!("cargo:warning=Unable to generate bindings: {}", e);
                println!("cargo:warning=Using bundled bindings.rs, which may be out of date");
                // copy src/bindings.rs to OUT_DIR
                std::fs::copy("src/bindings.rs", out.join("bindings.rs"))
                    .expect("Unable to copy bindings.rs");
            }
        }
    };

    // stop if we're on docs.rs
    if env::var("DOCS_RS").is_ok() {
        return;
    }

    let mut config = Config::new(&whisper_root);

    config
        .profile("Release")
        .define("BUILD_SHARED_LIBS", "OFF")
        .define("WHISPER_ALL_WARNINGS", "OFF")
        .define("WHISPER_ALL_WARNINGS_3RD_PARTY", "OFF")
        .define("WHISPER_BUILD_TESTS", "OFF")
        .define("WHISPER_BUILD_EXAMPLES", "OFF")
        .very_verbose(true)
        .pic(true);

    if cfg!(target_os = "windows") {
        config.cxxflag("/utf-8");
        println!("cargo:rustc-link-lib=advapi32");
    }

    if cfg!(feature = "coreml") {
        config.define("WHISPER_COREML", "ON");
        config.define("WHISPER_COREML_ALLOW_FALLBACK", "1");
    }

    if cfg!(feature = "cuda") {
        config.define("GGML_CUDA", "ON");
        // A toolkit named by CUDA_PATH (not on PATH) provides the compiler too.
        if let Some(root) = env::var_os("CUDA_PATH").map(PathBuf::from) {
            let nvcc = root
                .join("bin")
                .join(if cfg!(windows) { "nvcc.exe" } else { "nvcc" });
            if nvcc.exists() && env::var_os("CUDACXX").is_none() {
                config.define("CMAKE_CUDA_COMPILER", &nvcc);
                config.define("CUDAToolkit_ROOT", &root);
            }
        }
        config.define("CMAKE_POSITION_INDEPENDENT_CODE", "ON");
        config.define("CMAKE_CUDA_FLAGS", "-Xcompiler=-fPIC");
    }

    if cfg!(feature = "hipblas") {
        config.define("GGML_HIP", "ON");
        config.define("CMAKE_C_COMPILER", "hipcc");
        config.define("CMAKE_CXX_COMPILER", "hipcc");
        println!("cargo:rerun-if-env-changed=AMDGPU_TARGETS");
        if let Ok(gpu_targets) = env::var("AMDGPU_TARGETS") {
            config.define("AMDGPU_TARGETS", gpu_targets);
        }
    }

    if cfg!(feature = "vulkan") {
        config.define("GGML_VULKAN", "ON");
        if cfg!(windows) {
            println!("cargo:rerun-if-env-changed=VULKAN_SDK");
            println!("cargo:rustc-link-lib=vulkan-1");
            let vulkan_path = match env::var("VULKAN_SDK") {
                Ok(path) => PathBuf::from(path),
                Err(_) => panic!(
                    "Please install Vulkan SDK and ensure that VULKAN_SDK env variable is set"
                ),
            };
            let vulkan_lib_path = vulkan_path.join("Lib");
            println!("cargo:rustc-link-search={}", vulkan_lib_path.display());
        } else if cfg!(target_os = "macos") {
            println!("cargo:rerun-if-env-changed=VULKAN_SDK");
            println!("cargo:rustc-link-lib=vulkan");
            let vulkan_path = match env::var("VULKAN_SDK") {
                Ok(path) => PathBuf::from(path),
                Err(_) => panic!(
                    "Please install Vulkan SDK and ensure that VULKAN_SDK env variable is set"
                ),
            };
            let vulkan_lib_path = vulkan_path.join("lib");
            println!("cargo:rustc-link-search={}", vulkan_lib_path.display());
        } else {
            println!("cargo:rustc-link-lib=vulkan");
        }
    }

    if cfg!(feature = "openblas") {
        config.define("GGML_BLAS", "ON");
        config.define("GGML_BLAS_VENDOR", "OpenBLAS");
        if env::var("BLAS_INCLUDE_DIRS").is_err() {
            panic!("BLAS_INCLUDE_DIRS environment variable must be set when using OpenBLAS");
        }
        config.define("BLAS_INCLUDE_DIRS", env::var("BLAS_INCLUDE_DIRS").unwrap());
        println!("cargo:rerun-if-env-changed=BLAS_INCLUDE_DIRS");
        config.define("GGML_BLAS_DNNL", if use_dnnl() { "ON" } else { "OFF" });
    }

    // ggml's tiled matrix kernels (llamafile's tinyBLAS) for the CPU backend's products: a
    // block of weight rows is loaded once for several activation rows (beam-search decoders,
    // batched tokens). GGML_LLAMAFILE=OFF in the environment leaves them out.
    config.define("GGML_LLAMAFILE", "ON");

    if cfg!(feature = "metal") {
        config.define("GGML_METAL", "ON");
        config.define("GGML_METAL_NDEBUG", "ON");
        config.define("GGML_METAL_EMBED_LIBRARY", "ON");
    } else {
        // Metal is enabled by default, so we need to explicitly disable it
        config.define("GGML_METAL", "OFF");
    }

    if cfg!(debug_assertions) || cfg!(feature = "force-debug") {
        // debug builds are too slow to even remotely be usable,
        // so we build with optimizations even in debug mode
        config.define("CMAKE_BUILD_TYPE", "RelWithDebInfo");
        config.cxxflag("-DWHISPER_DEBUG");
    } else {
        // we're in release mode, explicitly set to release mode
        // see also https://codeberg.org/tazz4843/whisper-rs/issues/226
        config.define("CMAKE_BUILD_TYPE", "Release");
    }

    // On x86-64 Linux the CPU backend is portable: built for the x86-64-v2 baseline (SSE4.2),
    // and once more for each newer instruction-set level (see `CPU_VARIANTS`), all in one
    // library; ggml's registry takes the best one for the CPU it runs on.
    // GGML_NATIVE=ON builds one backend for the build machine's CPU instead;
    // GGML_CPU_VARIANTS=OFF builds the baseline alone.
    let portable = portable_cpu_backend();
    let variants = portable && cpu_variants_wanted();
    if portable {
        config.define("GGML_NATIVE", "OFF");
        config.define("GGML_SSE42", "ON");
        for feat in [
            "AVX",
            "AVX2",
            "BMI2",
            "AVX_VNNI",
            "FMA",
            "F16C",
            "AVX512",
            "AVX512_VBMI",
            "AVX512_VNNI",
            "AVX512_BF16",
            "AMX_TILE",
            "AMX_INT8",
            "AMX_BF16",
        ] {
            config.define(format!("GGML_{feat}"), "OFF");
        }
        config.define("GGML_CPU_VARIANT_LABEL", "baseline");
    } else if env_on("GGML_NATIVE") {
        config.define("GGML_CPU_VARIANT_LABEL", "native");
    }
    if variants {
        config.cxxflag("-DGGML_CPU_STATIC_VARIANTS");
    }

    // Allow passing any WHISPER or CMAKE compile flags
    for (key, value) in env::vars() {
        let is_whisper_flag =
            key.starts_with("WHISPER_") && key != "WHISPER_DONT_GENERATE_BINDINGS";
        let is_ggml_flag = key.starts_with("GGML_");
        let is_cmake_flag = key.starts_with("CMAKE_");
        if is_whisper_flag || is_ggml_flag || is_cmake_flag {
            config.define(&key, &value);
        }
    }

    if cfg!(not(feature = "openmp")) {
        config.define("GGML_OPENMP", "OFF");
    }

    if cfg!(feature = "intel-sycl") {
        config.define("BUILD_SHARED_LIBS", "ON");
        config.define("GGML_SYCL", "ON");
        config.define("GGML_SYCL_TARGET", "INTEL");
        config.define("CMAKE_C_COMPILER", "icx");
        config.define("CMAKE_CXX_COMPILER", "icpx");
    }

    let destination = config.build();

    add_link_search_path(&out.join("build")).unwrap();

    println!("cargo:rustc-link-search=native={}", destination.display());
    if cfg!(feature = "intel-sycl") {
        println!("cargo:rustc-link-lib=whisper");
        println!("cargo:rustc-link-lib=ggml");
        println!("cargo:rustc-link-lib=ggml-base");
        println!("cargo:rustc-link-lib=ggml-cpu");
    } else {
        println!("cargo:rustc-link-lib=static=whisper");
        println!("cargo:rustc-link-lib=static=ggml");
        if variants {
            let dir = build_cpu_variants(&whisper_root, &out);
            println!("cargo:rustc-link-search=native={}", dir.display());
            println!("cargo:rustc-link-lib=static:+whole-archive=ggml-cpu-variants");
        }
        println!("cargo:rustc-link-lib=static=ggml-base");
        println!("cargo:rustc-link-lib=static=ggml-cpu");
    }
    if cfg!(target_os = "macos") || cfg!(feature = "openblas") {
        println!("cargo:rustc-link-lib=static=ggml-blas");
    }
    if cfg!(feature = "vulkan") {
        if cfg!(feature = "intel-sycl") {
            println!("cargo:rustc-link-lib=ggml-vulkan");
        } else {
            println!("cargo:rustc-link-lib=static=ggml-vulkan");
        }
    }

    if cfg!(feature = "hipblas") {
        println!("cargo:rustc-link-lib=static=ggml-hip");
    }

    if cfg!(feature = "metal") {
        println!("cargo:rustc-link-lib=static=ggml-metal");
    }

    if cfg!(feature = "cuda") {
        println!("cargo:rustc-link-lib=static=ggml-cuda");
    }

    if cfg!(feature = "openblas") {
        println!("cargo:rustc-link-lib=static=ggml-blas");
    }

    if cfg!(feature = "intel-sycl") {
        println!("cargo:rustc-link-lib=ggml-sycl");
    }

    println!(
        "cargo:WHISPER_CPP_VERSION={}",
        get_whisper_cpp_version(&whisper_root)
            .expect("Failed to read whisper.cpp CMake config")
            .expect("Could not find whisper.cpp version declaration"),
    );

    // for whatever reason this file is generated during build and triggers cargo complaining
    _ = std::fs::remove_file("bindings/javascript/package.json");
}

// From https://github.com/alexcrichton/cc-rs/blob/fba7feded71ee4f63cfe885673ead6d7b4f2f454/src/lib.rs#L2462
fn get_cpp_link_stdlib(target: &str) -> Option<&'static str> {
    if target.contains("msvc") {
        None
    } else if target.contains("apple") || target.contains("freebsd") || target.contains("openbsd") {
        Some("c++")
    } else if target.contains("android") {
        Some("c++_shared")
    } else {
        Some("stdc++")
    }
}

fn add_link_search_path(dir: &std::path::Path) -> std::io::Result<()> {
    if dir.is_dir() {
        println!("cargo:rustc-link-search={}", dir.display());
        for entry in std::fs::read_dir(dir)? {
            add_link_search_path(&entry?.path())?;
        }
    }
    Ok(())
}

fn get_whisper_cpp_version(whisper_root: &std::path::Path) -> std::io::Result<Option<String>> {
    let cmake_lists = BufReader::new(File::open(whisper_root.join("CMakeLists.txt"))?);

    for line in cmake_lists.lines() {
        let line = line?;

        if let Some(suffix) = line.strip_prefix(r#"project("whisper.cpp" VERSION "#) {
            let whisper_cpp_version = suffix.trim_end_matches(')');
            return Ok(Some(whisper_cpp_version.into()));
        }
    }

    Ok(None)
}

/// Whether the BLAS backend gets oneDNN's int8 GEMM for q8_0 weights: `GGML_BLAS_DNNL=ON|OFF`
/// decides; unset, it is on for a native x86-64 build when oneDNN's header is found next to
/// the BLAS headers or in /usr/include.
#[allow(dead_code)]
fn use_dnnl() -> bool {
    println!("cargo:rerun-if-env-changed=GGML_BLAS_DNNL");
    match env::var("GGML_BLAS_DNNL") {
        Ok(v) => matches!(v.to_ascii_uppercase().as_str(), "ON" | "1" | "TRUE" | "YES"),
        Err(_) => {
            let native = env::var("TARGET").ok() == env::var("HOST").ok();
            if !native || env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("x86_64") {
                return false;
            }
            let mut dirs = vec![PathBuf::from("/usr/include")];
            if let Ok(d) = env::var("BLAS_INCLUDE_DIRS") {
                dirs.insert(0, PathBuf::from(d));
            }
            dirs.iter().any(|d| d.join("dnnl.h").exists())
        }
    }
}

/// The CPU backends built beside the baseline on x86-64 Linux (ggml's variant names and
/// instruction sets): AVX2 (haswell), AVX2 + AVX-VNNI (alderlake), AVX-512 (skylakex),
/// AVX-512 + VBMI + VNNI (icelake), and those + BF16 (zen4). ggml-backend-reg.cpp lists the
/// same names.
const CPU_VARIANTS: [&str; 5] = ["haswell", "alderlake", "skylakex", "icelake", "zen4"];

/// Whether an environment flag is set to a true value (ON, 1, TRUE, YES).
fn env_on(key: &str) -> bool {
    println!("cargo:rerun-if-env-changed={}", key);
    env::var(key)
        .map(|v| matches!(v.to_ascii_uppercase().as_str(), "ON" | "1" | "TRUE" | "YES"))
        .unwrap_or(false)
}

/// Whether the CPU backend is built for the x86-64-v2 baseline rather than the build
/// machine's CPU: x86-64 Linux targets, unless GGML_NATIVE=ON (or the SYCL build).
fn portable_cpu_backend() -> bool {
    env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64")
        && env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && !env_on("GGML_NATIVE")
        && !cfg!(feature = "intel-sycl")
}

/// Whether the newer-instruction-set variants are built beside the baseline: unless
/// GGML_CPU_VARIANTS=OFF, where the build machine is x86-64 Linux too (the variants are
/// joined with its binutils).
fn cpu_variants_wanted() -> bool {
    println!("cargo:rerun-if-env-changed=GGML_CPU_VARIANTS");
    if let Ok(v) = env::var("GGML_CPU_VARIANTS") {
        if matches!(
            v.to_ascii_uppercase().as_str(),
            "OFF" | "0" | "FALSE" | "NO"
        ) {
            return false;
        }
    }
    let host = env::var("HOST").unwrap_or_default();
    if !(host.starts_with("x86_64-") && host.contains("-linux")) {
        println!(
            "cargo:warning=building on {}: the CPU backend is the x86-64-v2 baseline alone (no AVX2/AVX-512 variants)",
            host
        );
        return false;
    }
    true
}

/// Builds each of `CPU_VARIANTS` as ggml builds its loadable CPU backends, then joins each
/// one's objects into one relocatable object whose symbols are all renamed
/// `ggml_cpu_<name>__<symbol>` and made local, but for its entry points
/// `ggml_cpu_<name>_init` (the backend's registry) and `ggml_cpu_<name>_score` (0 where the
/// CPU cannot run it). Renaming the COMDAT groups too keeps every inline function compiled
/// for a newer instruction set inside its own variant. Returns the directory holding
/// `libggml-cpu-variants.a`.
fn build_cpu_variants(whisper_root: &std::path::Path, out: &std::path::Path) -> PathBuf {
    let dir = out.join("cpu-variants");
    let mut cfg = Config::new(whisper_root);
    cfg.out_dir(&dir)
        .profile("Release")
        .define("CMAKE_BUILD_TYPE", "Release")
        .define("BUILD_SHARED_LIBS", "ON")
        .define("GGML_BACKEND_DL", "ON")
        .define("GGML_CPU_ALL_VARIANTS", "ON")
        .define("GGML_NATIVE", "OFF")
        .define(
            "GGML_LLAMAFILE",
            env::var("GGML_LLAMAFILE").unwrap_or_else(|_| "ON".into()),
        )
        .define(
            "GGML_OPENMP",
            if cfg!(feature = "openmp") {
                "ON"
            } else {
                "OFF"
            },
        )
        .define("GGML_BLAS", "OFF")
        .define("GGML_METAL", "OFF")
        .define("WHISPER_BUILD_TESTS", "OFF")
        .define("WHISPER_BUILD_EXAMPLES", "OFF")
        .pic(true);
    for tag in CPU_VARIANTS {
        cfg.build_target(&format!("ggml-cpu-{}", tag)).build();
    }

    let run = |cmd: &mut std::process::Command| -> String {
        let output = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {:?}: {}", cmd, e));
        if !output.status.success() {
            panic!(
                "{:?} failed: {}",
                cmd,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let objects_dir = dir.join("build/ggml/src/CMakeFiles");
    let joined_dir = dir.join("joined");
    std::fs::create_dir_all(&joined_dir).unwrap();
    let mut members = Vec::new();
    for tag in CPU_VARIANTS {
        let mut objects = Vec::new();
        for sub in [
            format!("ggml-cpu-{}.dir", tag),
            format!("ggml-cpu-{}-feats.dir", tag),
        ] {
            collect_objects(&objects_dir.join(sub), &mut objects);
        }
        assert!(
            !objects.is_empty(),
            "no objects built for CPU variant {}",
            tag
        );
        objects.sort();
        let joined = joined_dir.join(format!("{}.o", tag));
        run(std::process::Command::new("ld")
            .arg("-r")
            .arg("-o")
            .arg(&joined)
            .args(&objects));

        // Every global symbol the variant defines, and every COMDAT group's signature.
        let prefix = format!("ggml_cpu_{}__", tag);
        let mut names = std::collections::BTreeSet::new();
        for line in run(std::process::Command::new("nm")
            .args(["-P", "--defined-only"])
            .arg(&joined))
        .lines()
        {
            let mut fields = line.split_whitespace();
            if let (Some(name), Some(kind)) = (fields.next(), fields.next()) {
                if kind.chars().all(|c| c.is_ascii_uppercase())
                    || kind == "u"
                    || kind == "v"
                    || kind == "w"
                {
                    names.insert(name.to_string());
                }
            }
        }
        for line in run(std::process::Command::new("readelf")
            .args(["-g", "-W"])
            .arg(&joined))
        .lines()
        {
            // COMDAT group section [    1] `.group' [_ZN...] contains 2 sections:
            if let Some(rest) = line.trim_start().strip_prefix("COMDAT group section") {
                if let Some(sig) = rest.split('[').nth(2).and_then(|s| s.split(']').next()) {
                    names.insert(sig.to_string());
                }
            }
        }
        let init = format!("ggml_cpu_{}_init", tag);
        let score = format!("ggml_cpu_{}_score", tag);
        let map: String = names
            .iter()
            .map(|name| match name.as_str() {
                "ggml_backend_init" => format!("{} {}\n", name, init),
                "ggml_backend_score" => format!("{} {}\n", name, score),
                _ => format!("{} {}{}\n", name, prefix, name),
            })
            .collect();
        assert!(
            names.contains("ggml_backend_init") && names.contains("ggml_backend_score"),
            "CPU variant {} has no ggml_backend_init/ggml_backend_score",
            tag
        );
        let map_file = joined_dir.join(format!("{}.syms", tag));
        std::fs::write(&map_file, map).unwrap();
        let renamed = joined_dir.join(format!("{}.renamed.o", tag));
        run(std::process::Command::new("objcopy")
            .arg(format!("--redefine-syms={}", map_file.display()))
            .arg(&joined)
            .arg(&renamed));
        let member = joined_dir.join(format!("ggml-cpu-{}.o", tag));
        run(std::process::Command::new("objcopy")
            .arg(format!("--keep-global-symbol={}", init))
            .arg(format!("--keep-global-symbol={}", score))
            .arg(&renamed)
            .arg(&member));
        members.push(member);
    }
    let lib_dir = dir.join("lib");
    std::fs::create_dir_all(&lib_dir).unwrap();
    let archive = lib_dir.join("libggml-cpu-variants.a");
    let _ = std::fs::remove_file(&archive);
    run(std::process::Command::new("ar")
        .arg("crs")
        .arg(&archive)
        .args(&members));
    lib_dir
}

/// Every `.o` file under `dir`.
fn collect_objects(dir: &std::path::Path, found: &mut Vec<PathBuf>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect_objects(&path, found);
            } else if path.extension().is_some_and(|e| e == "o") {
                found.push(path);
            }
        }
    }
}
