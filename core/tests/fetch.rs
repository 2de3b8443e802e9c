//! The model downloader against a local HTTP server: success, checksum mismatch, 404, a
//! connection dropped mid-file, a resumed partial file, and caches that cannot be written.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use common::http::{Route, Server};
use sha2::{Digest, Sha256};
use stenograph::model::{FetchOptions, Model, Source};
use stenograph::testing::{download_file, write_random_model};
use stenograph::Error;

fn payload() -> Arc<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.bin");
    write_random_model(&path, 7).unwrap();
    Arc::new(std::fs::read(path).unwrap())
}

fn sha(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn opts() -> FetchOptions {
    let mut o = FetchOptions::default();
    o.attempts = 3;
    o
}

fn server(routes: &[(&str, Route)]) -> Server {
    Server::start(
        routes
            .iter()
            .map(|(p, r)| (p.to_string(), r.clone()))
            .collect::<HashMap<_, _>>(),
    )
}

#[test]
fn downloads_and_verifies_with_progress() {
    let bytes = payload();
    let srv = server(&[("/m.bin", Route::File(bytes.clone()))]);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("m.bin");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut o = opts();
    o.progress = Some(Arc::new(move |p| {
        log.lock().unwrap().push((p.done, p.total))
    }));
    download_file(&format!("{}/m.bin", srv.base), &dest, &sha(&bytes), &o).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), *bytes);
    let seen = seen.lock().unwrap();
    assert!(seen.len() > 1);
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(
        *seen.last().unwrap(),
        (bytes.len() as u64, Some(bytes.len() as u64))
    );
    // The downloaded model is a real, loadable model.
    Model::load(&dest).unwrap();
}

#[test]
fn checksum_mismatch_keeps_nothing() {
    let bytes = payload();
    let srv = server(&[("/m.bin", Route::File(bytes.clone()))]);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("m.bin");
    let wrong = sha(b"something else");
    let err = download_file(&format!("{}/m.bin", srv.base), &dest, &wrong, &opts()).unwrap_err();
    match &err {
        Error::ChecksumMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, &wrong);
            assert_eq!(actual, &sha(&bytes));
        }
        other => panic!("{other}"),
    }
    assert!(!dest.exists());
    assert!(!dir.path().join("m.bin.partial").exists());
}

#[test]
fn not_found_is_an_error_with_the_status() {
    let srv = server(&[]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/missing.bin", srv.base);
    let err = download_file(&url, &dir.path().join("x"), &sha(b""), &opts()).unwrap_err();
    assert!(matches!(err, Error::Download { .. }), "{err}");
    assert!(err.to_string().contains("HTTP 404"), "{err}");
    assert_eq!(
        srv.requests.load(Ordering::SeqCst),
        1,
        "a 404 is not retried"
    );
}

#[test]
fn dropped_connection_resumes_with_a_range_request() {
    let bytes = payload();
    let cut = bytes.len() / 3;
    let srv = server(&[("/m.bin", Route::DropOnce(bytes.clone(), cut))]);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("m.bin");
    download_file(&format!("{}/m.bin", srv.base), &dest, &sha(&bytes), &opts()).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), *bytes);
    assert_eq!(srv.requests.load(Ordering::SeqCst), 2);
    assert_eq!(*srv.ranges.lock().unwrap(), vec![format!("{cut}-")]);
}

#[test]
fn partial_file_from_an_earlier_run_is_resumed() {
    let bytes = payload();
    let srv = server(&[("/m.bin", Route::File(bytes.clone()))]);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("m.bin");
    std::fs::write(dir.path().join("m.bin.partial"), &bytes[..1000]).unwrap();
    download_file(&format!("{}/m.bin", srv.base), &dest, &sha(&bytes), &opts()).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), *bytes);
    assert_eq!(*srv.ranges.lock().unwrap(), vec!["1000-".to_string()]);
}

#[test]
fn gives_up_when_the_server_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: nothing listens there.
    let err = download_file(
        "http://127.0.0.1:9/m.bin",
        &dir.path().join("m.bin"),
        &sha(b""),
        &opts(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Download { .. }), "{err}");
    assert!(
        err.to_string().contains("gave up after 3 attempts"),
        "{err}"
    );
}

fn fetch_into(cache: &Path) -> Result<std::path::PathBuf, Error> {
    let srv = server(&[]);
    let mut o = opts();
    o.cache_dir = Some(cache.to_path_buf());
    o.source = Source::Official;
    o.base_url = srv.base.clone();
    Model::fetch_file("tiny.en", &o)
}

#[test]
fn cache_that_cannot_be_written() {
    // /proc refuses new directories, even to root.
    let err = fetch_into(Path::new("/proc/self/stenograph-cache")).unwrap_err();
    assert!(matches!(err, Error::Cache { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("model cache /proc/self/stenograph-cache"),
        "{err}"
    );

    // A file where the cache directory should be.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = fetch_into(&file).unwrap_err();
    assert!(matches!(err, Error::Cache { .. }), "{err}");
}

#[test]
fn official_source_404_names_the_model_url() {
    let dir = tempfile::tempdir().unwrap();
    let err = fetch_into(dir.path()).unwrap_err();
    assert!(err.to_string().contains("ggml-tiny.en.bin"), "{err}");
    assert!(err.to_string().contains("HTTP 404"), "{err}");
    assert!(!dir.path().join("ggml-tiny.en.bin").exists());
}

#[test]
fn unknown_names_list_the_known_ones() {
    let err = Model::fetch_file("tiny.fr", &opts()).unwrap_err();
    match &err {
        Error::UnknownModel { name, known } => {
            assert_eq!(name, "tiny.fr");
            assert!(known.contains("tiny.en") && known.contains("large-v3-turbo"));
        }
        other => panic!("{other}"),
    }
}
