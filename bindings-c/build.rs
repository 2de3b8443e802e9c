//! Generates the C header from the crate's `extern "C"` items with cbindgen (configured by
//! `cbindgen.toml`) into `OUT_DIR`; the committed `include/stenograph.h` is compared with it by
//! the crate's tests, and rewritten when `STENOGRAPH_WRITE_HEADER=1`.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("stenograph.h");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=STENOGRAPH_WRITE_HEADER");
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("generate the C header")
        .write_to_file(&out);
    if std::env::var("STENOGRAPH_WRITE_HEADER").as_deref() == Ok("1") {
        let committed = crate_dir.join("../include/stenograph.h");
        std::fs::copy(&out, committed).expect("write include/stenograph.h");
    }
}
