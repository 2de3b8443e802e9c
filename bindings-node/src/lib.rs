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
