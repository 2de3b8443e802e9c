//! The C examples built with `make -C examples/c` and with CMake through the installed
//! pkg-config file, run against the real tiny.en; the API checker under AddressSanitizer and
//! LeakSanitizer (valgrind cannot decode the AVX-512 instructions whisper.cpp is built with).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn speech(dir: &Path) -> PathBuf {
    let wav = dir.join("call.wav");
    run(Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "140", "-w"])
        .arg(&wav)
        .arg("Please call the customer back before noon tomorrow."));
    wav
}

#[test]
fn make_builds_examples_that_transcribe_and_check_the_api_under_asan() {
    let dir = tempfile::tempdir().unwrap();
    let wav = speech(dir.path());
    let examples = root().join("examples/c");
    run(Command::new("make").arg("-C").arg(&examples));

    let out = run(Command::new(examples.join("transcribe")).arg(&wav));
    let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(text.contains("customer back"), "{text}");
    // A bad input is a clean failure with the library's message.
    let bad = dir.path().join("notes.wav");
    std::fs::write(&bad, b"not audio at all, just text").unwrap();
    let out = Command::new(examples.join("transcribe"))
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("STENO_STATUS_DECODE"), "{err}");

    // The live example pushes the file in 20 ms pieces and prints each event.
    let out = run(Command::new(examples.join("stream")).arg(&wav));
    let events = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(events.contains("speech started at"), "{events}");
    assert!(
        events
            .lines()
            .any(|l| l.starts_with("final [") && l.contains("customer back")),
        "{events}"
    );

    let out = run(Command::new(examples.join("check")).arg(&wav));
    assert!(String::from_utf8_lossy(&out.stdout).contains("all checks passed"));
    let out = Command::new(examples.join("check-asan"))
        .arg(&wav)
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=1:abort_on_error=0:exitcode=99",
        )
        .env(
            "LSAN_OPTIONS",
            format!("suppressions={}", examples.join("lsan.supp").display()),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "status {:?}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("ERROR: AddressSanitizer"), "{stderr}");
    assert!(!stderr.contains("LeakSanitizer"), "{stderr}");
}

#[test]
fn cmake_finds_the_installed_library_through_pkg_config() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("prefix");
    // install-c.sh builds the release library first (a no-op when it is current).
    run(Command::new(root().join("scripts/install-c.sh")).arg(&prefix));
    let pc = prefix.join("lib/pkgconfig");
    let build = dir.path().join("build");
    run(Command::new("cmake")
        .env("PKG_CONFIG_PATH", &pc)
        .arg("-S")
        .arg(root().join("examples/c"))
        .arg("-B")
        .arg(&build));
    run(Command::new("cmake").arg("--build").arg(&build));
    let wav = speech(dir.path());
    let out = run(Command::new(build.join("transcribe"))
        .env("LD_LIBRARY_PATH", prefix.join("lib"))
        .arg(&wav));
    assert!(String::from_utf8_lossy(&out.stdout)
        .to_lowercase()
        .contains("customer back"));
    // The static library links too (with its private dependencies from the .pc file).
    let flags = run(Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", &pc)
        .args(["--static", "--cflags", "--libs", "stenograph"]));
    let flags = String::from_utf8_lossy(&flags.stdout).to_string();
    let exe = dir.path().join("transcribe-static");
    let mut cc = Command::new("cc");
    cc.arg(root().join("examples/c/transcribe.c"))
        .arg("-o")
        .arg(&exe)
        .arg(prefix.join("lib/libstenograph.a"))
        .args(flags.split_whitespace().filter(|f| *f != "-lstenograph"));
    run(&mut cc);
    let out = run(Command::new(&exe).arg(&wav));
    assert!(String::from_utf8_lossy(&out.stdout)
        .to_lowercase()
        .contains("customer back"));
}
