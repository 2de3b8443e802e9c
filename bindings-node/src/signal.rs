//! `AbortSignal`s: a signal cancels a core token when it aborts (at once if it already has).

use napi::bindgen_prelude::*;
use stenograph::transcribe::CancelToken;

use crate::errors::Failure;

/// `EventTarget.prototype.addEventListener(type, listener)`.
type AddEventListener<'env> =
    Function<'env, FnArgs<(&'env str, Function<'env, (), ()>)>, Unknown<'env>>;

/// Cancels `token` when `signal` (the `signal` option) aborts.
pub fn follow(
    env: &Env,
    signal: &Object<'_>,
    token: &CancelToken,
) -> std::result::Result<(), Failure> {
    if signal
        .get_named_property::<bool>("aborted")
        .unwrap_or(false)
    {
        token.cancel();
        return Ok(());
    }
    let add: AddEventListener = signal
        .get_named_property("addEventListener")
        .map_err(|_| Failure::Type("options.signal must be an AbortSignal".into()))?;
    let t = token.clone();
    let listener = env
        .create_function_from_closure::<(), (), _>("onAbort", move |_| {
            t.cancel();
            Ok(())
        })
        .map_err(|e| Failure::Type(e.reason))?;
    add.apply(signal, ("abort", listener).into())
        .map_err(|e| Failure::Type(format!("options.signal: {}", e.reason)))?;
    Ok(())
}
