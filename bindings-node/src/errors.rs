//! Failures to JavaScript errors. A core error becomes an `Error` whose `code` is
//! `ERR_STENOGRAPH_` and the core's own name of the failure, upper-cased
//! (`ERR_STENOGRAPH_TRUNCATED`, …), and whose `category` is the core's (`decode`, `model`, …):
//! the core decides both. An argument of the wrong type is a `TypeError` with Node's code
//! `ERR_INVALID_ARG_TYPE`, a number out of range a `RangeError` with `ERR_OUT_OF_RANGE` (category
//! `invalid_argument`). Every failure of a promise-returning method rejects its promise.

use napi::bindgen_prelude::*;
use stenograph::Error as CoreError;

/// Why a call failed.
pub enum Failure {
    /// The core refused or failed.
    Core(CoreError),
    /// An argument has the wrong type.
    Type(String),
    /// A number is out of range or not whole.
    Range(String),
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure::Core(e)
    }
}

/// The `code` of a core error.
pub fn code(e: &CoreError) -> String {
    format!("ERR_STENOGRAPH_{}", e.code().to_ascii_uppercase())
}

/// The JavaScript error of a failure.
pub fn to_js(env: &Env, failure: Failure) -> Error {
    let made = (|| -> Result<Error> {
        let (class, message, code, category) = match failure {
            Failure::Core(e) => {
                let mut obj = env.create_error(Error::from_reason(e.to_string()))?;
                obj.set_named_property("code", code(&e))?;
                obj.set_named_property("category", e.category().as_str())?;
                if matches!(e, CoreError::Cancelled) {
                    obj.set_named_property("name", "AbortError")?;
                }
                return Ok(Error::from(obj.to_unknown()));
            }
            Failure::Type(m) => ("TypeError", m, "ERR_INVALID_ARG_TYPE", "invalid_argument"),
            Failure::Range(m) => ("RangeError", m, "ERR_OUT_OF_RANGE", "invalid_argument"),
        };
        let ctor: Function<String, Unknown> = env.get_global()?.get_named_property(class)?;
        let value = ctor.new_instance(message)?;
        // SAFETY: `new` of an error class gives an object.
        let mut obj: Object = unsafe { value.cast()? };
        obj.set_named_property("code", code)?;
        obj.set_named_property("category", category)?;
        Ok(Error::from(obj.to_unknown()))
    })();
    made.unwrap_or_else(|err| err)
}
