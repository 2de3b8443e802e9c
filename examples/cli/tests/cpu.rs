//! One binary for every x86-64 CPU: the CPU backend chosen for this CPU and for older ones
//! (emulated with qemu-user), and the same transcript from every backend.
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

mod common;

use std::process::Command;

use common::speech;

/// The CPU backend variant ggml's score picks on a CPU with `has` instruction sets (the
/// variants the build carries, with the instruction sets each needs).
fn expected_variant(has: &dyn Fn(&str) -> bool) -> &'static str {
    let haswell = ["avx", "avx2", "fma", "f16c", "bmi2"]
        .iter()
        .all(|f| has(f));
    let avx512 = haswell
        && ["avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"]
            .iter()
            .all(|f| has(f));
    let icelake = avx512 && has("avx512vbmi") && has("avx512vnni");
    if icelake && has("avx512bf16") {
        "zen4"
    } else if icelake {
        "icelake"
    } else if avx512 {
        "skylakex"
    } else if haswell && has("avxvnni") {
        "alderlake"
    } else if haswell {
        "haswell"
    } else {
        "baseline"
    }
}

/// Whether this CPU (and its OS) supports instruction set `f`.
fn host_has(f: &str) -> bool {
    match f {
        "avx" => std::arch::is_x86_feature_detected!("avx"),
        "avx2" => std::arch::is_x86_feature_detected!("avx2"),
        "fma" => std::arch::is_x86_feature_detected!("fma"),
        "f16c" => std::arch::is_x86_feature_detected!("f16c"),
        "bmi2" => std::arch::is_x86_feature_detected!("bmi2"),
        "avx512f" => std::arch::is_x86_feature_detected!("avx512f"),
        "avx512cd" => std::arch::is_x86_feature_detected!("avx512cd"),
        "avx512vl" => std::arch::is_x86_feature_detected!("avx512vl"),
        "avx512dq" => std::arch::is_x86_feature_detected!("avx512dq"),
        "avx512bw" => std::arch::is_x86_feature_detected!("avx512bw"),
        "avx512vbmi" => std::arch::is_x86_feature_detected!("avx512vbmi"),
        "avx512vnni" => std::arch::is_x86_feature_detected!("avx512vnni"),
        "avx512bf16" => std::arch::is_x86_feature_detected!("avx512bf16"),
        "avxvnni" => std::arch::is_x86_feature_detected!("avxvnni"),
        _ => false,
    }
}

/// `stenograph ARGS…`, under `qemu-x86_64 -cpu CPU` when `cpu` is given, with `env` set;
/// fails the test unless it succeeds. Returns stdout.
fn stenograph(cpu: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> String {
    let exe = env!("CARGO_BIN_EXE_stenograph");
    let mut cmd = match cpu {
        Some(cpu) => {
            let mut c = Command::new("qemu-x86_64");
            c.args(["-cpu", cpu, exe]);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(args).env_remove("GGML_CPU_VARIANT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("qemu-x86_64 (qemu-user, installed by .ci/run)");
    assert!(
        out.status.success(),
        "{cpu:?} {env:?} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The variant and instruction sets `stenograph system --json` reports.
fn system(cpu: Option<&str>, env: &[(&str, &str)]) -> (String, Vec<String>) {
    let out = stenograph(cpu, env, &["system", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let backend = &v["cpu_backend"];
    let features = backend["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    (backend["variant"].as_str().unwrap().to_string(), features)
}

#[test]
fn each_cpu_gets_the_backend_for_its_instruction_sets() {
    // This machine's CPU: the best variant it supports.
    let (variant, features) = system(None, &[]);
    assert_eq!(variant, expected_variant(&host_has), "{features:?}");

    // Haswell (AVX2, FMA, no AVX-512) and Nehalem (x86-64-v2: SSE4.2, no AVX), emulated.
    let (variant, features) = system(Some("Haswell"), &[]);
    assert_eq!(variant, "haswell", "{features:?}");
    assert!(features.iter().any(|f| f == "AVX2"), "{features:?}");
    assert!(
        !features.iter().any(|f| f.starts_with("AVX512")),
        "{features:?}"
    );
    let (variant, features) = system(Some("Nehalem"), &[]);
    assert_eq!(variant, "baseline", "{features:?}");
    assert!(
        !features.iter().any(|f| f.starts_with("AVX")),
        "{features:?}"
    );

    // GGML_CPU_VARIANT narrows the choice, but never to one the CPU cannot run.
    assert_eq!(
        system(None, &[("GGML_CPU_VARIANT", "baseline")]).0,
        "baseline"
    );
    assert_eq!(
        system(Some("Nehalem"), &[("GGML_CPU_VARIANT", "haswell")]).0,
        "baseline"
    );
    assert_eq!(
        system(Some("Haswell"), &[("GGML_CPU_VARIANT", "skylakex")]).0,
        "haswell"
    );
}

#[test]
fn every_cpu_backend_gives_the_same_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let clip = speech(
        dir.path(),
        "clip.wav",
        "Please send the signed contract to our office by Friday.",
    );
    let clip = clip.to_str().unwrap();
    let args = ["transcribe", clip];
    let best = stenograph(None, &[], &args);
    assert!(best.to_lowercase().contains("contract"), "{best}");

    // Every variant this CPU runs, and the baseline, natively.
    let mut variants = vec!["baseline"];
    variants.extend(
        ["haswell", "alderlake", "skylakex", "icelake", "zen4"]
            .into_iter()
            .filter(|v| system(None, &[("GGML_CPU_VARIANT", v)]).0 == *v),
    );
    for v in variants {
        let text = stenograph(None, &[("GGML_CPU_VARIANT", v)], &args);
        assert_eq!(text, best, "GGML_CPU_VARIANT={v}");
    }

    // An x86-64-v2 CPU with no AVX at all, emulated.
    let text = stenograph(Some("Nehalem"), &[], &args);
    assert_eq!(text, best, "under qemu-x86_64 -cpu Nehalem");
}
