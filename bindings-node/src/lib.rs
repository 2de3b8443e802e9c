//! Node.js bindings of Stenograph: conversion and error mapping over the core, nothing more.
#![deny(clippy::all)]

mod callbacks;
mod errors;
mod input;
mod signal;
mod stream;
mod transcriber;
mod transcript;

use napi_derive::napi;

/// The default model name.
#[napi]
pub const DEFAULT_MODEL: &str = stenograph::transcribe::DEFAULT_MODEL;

/// Whether this build has a GPU back end.
#[napi]
pub const GPU_BUILD: bool = stenograph::GPU_BUILD;

/// The HTTP content type of a transcript rendered in `format` (see `Transcript.render`).
#[napi]
pub fn content_type(env: napi::Env, format: String) -> napi::Result<&'static str> {
    let format: stenograph::transcribe::Format = format
        .parse()
        .map_err(|e: stenograph::Error| errors::to_js(&env, e.into()))?;
    Ok(format.content_type())
}

/// Fetches a registry model into the cache (if it is not there yet) off the JavaScript thread;
/// resolves to its path.
pub struct Fetch {
    name: Option<String>,
    failure: Option<errors::Failure>,
}

impl napi::Task for Fetch {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<String> {
        let Some(name) = self.name.take() else {
            return Err(napi::Error::from_reason("invalid arguments"));
        };
        stenograph::model::Model::fetch_file(&name, &stenograph::model::FetchOptions::default())
            .map(|p| p.display().to_string())
            .map_err(|e| {
                self.failure = Some(e.into());
                napi::Error::from_reason("fetch failed")
            })
    }

    fn resolve(&mut self, _: napi::Env, path: String) -> napi::Result<String> {
        Ok(path)
    }

    fn reject(&mut self, env: napi::Env, err: napi::Error) -> napi::Result<String> {
        Err(self.failure.take().map_or(err, |f| errors::to_js(&env, f)))
    }
}

/// Fetches a registry model (e.g. "base") into the cache, if it is not there yet, and resolves
/// to its path.
#[napi(ts_return_type = "Promise<string>")]
pub fn fetch_model(
    #[napi(ts_arg_type = "string")] name: napi::bindgen_prelude::Unknown<'_>,
) -> napi::bindgen_prelude::AsyncTask<Fetch> {
    let (name, failure) = match input::string(&name, "name") {
        Ok(n) => (Some(n), None),
        Err(f) => (None, Some(f)),
    };
    napi::bindgen_prelude::AsyncTask::new(Fetch { name, failure })
}

/// Makes `console.log(transcript)` and `util.inspect` show the transcript's fields (they are
/// getters on the class, which Node does not show by themselves).
#[napi(module_exports)]
pub fn install_inspect(exports: napi::bindgen_prelude::Object, env: napi::Env) -> napi::Result<()> {
    let install: napi::bindgen_prelude::Function<napi::bindgen_prelude::Object, ()> = env
        .run_script(
            "(function (exports) {\n\
               Object.defineProperty(exports.Transcript.prototype, Symbol.for('nodejs.util.inspect.custom'), {\n\
                 value: function (depth, options, inspect) {\n\
                   const { text, language, task, duration, segments, warnings } = this;\n\
                   return 'Transcript ' + inspect({ text, language, task, duration, segments, warnings }, options);\n\
                 },\n\
               });\n\
             })",
        )?;
    install.call(exports)?;
    let stream: napi::bindgen_prelude::Function<napi::bindgen_prelude::Object, ()> =
        env.run_script(include_str!("stream.js"))?;
    stream.call(exports)
}
