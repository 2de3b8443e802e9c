//! Node.js bindings of Stenograph: conversion and error mapping over the core, nothing more.
#![deny(clippy::all)]

mod errors;
mod input;
mod transcriber;
mod transcript;

use napi_derive::napi;

/// The default model name.
#[napi]
pub const DEFAULT_MODEL: &str = stenograph::transcribe::DEFAULT_MODEL;

/// Whether this build has a GPU back end.
#[napi]
pub const GPU_BUILD: bool = stenograph::transcribe::GPU_BUILD;

/// The HTTP content type of a transcript rendered in `format` (see `Transcript.render`).
#[napi]
pub fn content_type(env: napi::Env, format: String) -> napi::Result<&'static str> {
    let format: stenograph::transcribe::Format =
        format.parse().map_err(|e| errors::to_js(&env, &e))?;
    Ok(format.content_type())
}
