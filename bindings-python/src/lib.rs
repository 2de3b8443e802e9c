//! Python bindings of Stenograph: conversion and error mapping over the core, nothing more.

mod errors;
mod input;
mod stream;
mod transcriber;
mod transcript;

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The native module, `stenograph._stenograph`; the package `stenograph` re-exports it.
#[pymodule]
fn _stenograph(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let scope = PyDict::new(py);
    py.run(errors::HIERARCHY, Some(&scope), None)?;
    for name in [
        "Error",
        "DecodeError",
        "ModelError",
        "DownloadError",
        "Cancelled",
        "InferenceError",
        "DeviceError",
        "InvalidArgument",
        "IoError",
    ] {
        let class = scope
            .get_item(name)?
            .expect("defined by the hierarchy above");
        class.setattr("__module__", "stenograph")?;
        m.add(name, class)?;
    }
    m.add_class::<transcriber::PyTranscriber>()?;
    m.add_class::<transcriber::PyCancelToken>()?;
    m.add_class::<transcript::PyTranscript>()?;
    m.add_class::<transcript::PySegment>()?;
    m.add_class::<transcript::PyWord>()?;
    m.add_class::<stream::PyStream>()?;
    m.add_class::<stream::PyStreamEvent>()?;
    m.add("DEFAULT_MODEL", stenograph::transcribe::DEFAULT_MODEL)?;
    m.add("GPU_BUILD", stenograph::GPU_BUILD)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(fetch_model, m)?)?;
    m.add_function(wrap_pyfunction!(content_type, m)?)?;
    m.add(
        "FORMATS",
        stenograph::transcribe::Format::ALL
            .map(|f| f.as_str())
            .to_vec(),
    )?;
    Ok(())
}

/// The HTTP content type of a transcript rendered in `format` (see `Transcript.render`).
#[pyfunction]
fn content_type(format: &str) -> PyResult<&'static str> {
    let format: stenograph::transcribe::Format = format.parse().map_err(errors::to_py)?;
    Ok(format.content_type())
}

/// Fetches a registry model into the cache (if not there yet) and returns its path.
#[pyfunction]
fn fetch_model(py: Python<'_>, name: &str) -> PyResult<String> {
    let name = name.to_string();
    py.detach(move || {
        stenograph::model::Model::fetch_file(&name, &stenograph::model::FetchOptions::default())
    })
    .map(|p| p.display().to_string())
    .map_err(errors::to_py)
}
