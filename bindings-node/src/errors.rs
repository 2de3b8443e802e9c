//! Core errors to JavaScript `Error`s: `code` is `ERR_STENOGRAPH_` and the core's own name of
//! the failure, upper-cased (`ERR_STENOGRAPH_TRUNCATED`, `ERR_STENOGRAPH_UNKNOWN_FORMAT`, …);
//! `category` is the core's category (`decode`, `model`, `download`, …). The core decides both.

use napi::bindgen_prelude::*;
use stenograph::Error as CoreError;

/// The `code` of a core error.
pub fn code(e: &CoreError) -> String {
    format!("ERR_STENOGRAPH_{}", e.code().to_ascii_uppercase())
}

/// A JavaScript `Error` carrying the core's message, `code` and `category` (a cancelled call's
/// error is also named `AbortError`, as `fetch` and `node:timers/promises` name theirs).
pub fn to_js(env: &Env, e: &CoreError) -> Error {
    let made = (|| -> Result<Error> {
        let mut obj = env.create_error(Error::from_reason(e.to_string()))?;
        obj.set_named_property("code", code(e))?;
        obj.set_named_property("category", e.category().as_str())?;
        if matches!(e, CoreError::Cancelled) {
            obj.set_named_property("name", "AbortError")?;
        }
        Ok(Error::from(obj.to_unknown()))
    })();
    made.unwrap_or_else(|err| err)
}
