//! The panic policy of the fuzz targets.
//!
//! libfuzzer-sys aborts on every panic, even one the code under test catches. The core catches
//! panics of the codec libraries it wraps (symphonia and the like) and turns them into typed
//! errors, which is its documented contract; a panic in the project's own code, or one that
//! escapes the API, is a bug. This hook keeps that distinction: a panic located in a
//! crates.io dependency is recorded (the input is saved under `artifacts/<target>/caught-*` so
//! it can become a regression test) and left to the core's `catch_unwind`; any other panic
//! aborts, as before. `STENO_FUZZ_STRICT=1` aborts on every panic.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

static CAUGHT: AtomicBool = AtomicBool::new(false);
static MESSAGE: Mutex<String> = Mutex::new(String::new());

/// Whether a panic at `file` is in a dependency from crates.io.
fn in_dependency(file: &str) -> bool {
    file.contains("/.cargo/registry/") || file.contains("\\.cargo\\registry\\")
}

/// Installs the hook (once per process).
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let strict = std::env::var_os("STENO_FUZZ_STRICT").is_some_and(|v| v == "1");
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map(|l| l.file()).unwrap_or("");
            if strict || !in_dependency(file) {
                eprintln!("{info}");
                std::process::abort();
            }
            *MESSAGE.lock().unwrap_or_else(|e| e.into_inner()) = info.to_string();
            CAUGHT.store(true, Ordering::SeqCst);
        }));
    });
}

/// Runs one input under the policy; a dependency panic the code caught saves the input.
pub fn run(target: &str, data: &[u8], test: impl FnOnce()) {
    install();
    CAUGHT.store(false, Ordering::SeqCst);
    test();
    if CAUGHT.swap(false, Ordering::SeqCst) {
        let message = MESSAGE.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let dir = std::path::Path::new("artifacts").join(target);
        let name = format!("caught-{:016x}", fnv1a(data));
        let saved = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join(&name), data))
            .map(|()| dir.join(&name).display().to_string())
            .unwrap_or_else(|e| format!("(not saved: {e})"));
        let _ = writeln!(
            std::io::stderr(),
            "caught dependency panic, handled by the library: {message}; input {saved}"
        );
    }
}

/// A stable name for an input.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
