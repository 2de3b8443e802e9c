//! Partial decodes on lighter weights: live streams re-decode a turn in progress every few
//! hundred milliseconds, and on the CPU the decoder's matrix-vector products of an f16 model
//! wait on memory (every token streams the decoder's weights). A q8_0 copy streams half the
//! bytes, so partial text comes more often, while final text keeps the model's own weights.

use std::sync::{Arc, Once, OnceLock};

use std::str::FromStr;

use crate::error::{Error, Result};
use crate::model::{Model, QuantType};
use crate::transcribe::pool::StatePool;

/// The weights live streams' partial decodes run on (final text always comes from the
/// model's own weights).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PartialWeights {
    /// The model's own weights.
    Model,
    /// A copy quantized to this type, made in memory (in the background, while partials use
    /// the model's own weights) when the first stream opens. Applies to f16 and f32 models
    /// loaded from a file onto the CPU; others keep their own weights.
    Quantized(QuantType),
    /// `Quantized(Q8_0)`: about as accurate as f16, half the bytes per decoded token.
    #[default]
    Auto,
}

impl FromStr for PartialWeights {
    type Err = Error;

    /// `auto`, `model`, or a quantization type (`q8_0`, `q5_1`, …).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(PartialWeights::Auto),
            "model" => Ok(PartialWeights::Model),
            other => other.parse().map(PartialWeights::Quantized).map_err(|_| {
                Error::InvalidArgument(format!(
                    "partial weights '{s}': auto, model, or one of {}",
                    QuantType::ALL.map(QuantType::name).join(", ")
                ))
            }),
        }
    }
}

/// The copy of a transcriber's weights its partial decodes use, made once on first need.
pub(crate) struct Preview {
    model: Model,
    to: Option<QuantType>,
    states: usize,
    started: Once,
    pool: OnceLock<StatePool>,
}

impl Preview {
    /// A preview of `model` in `weights`, with up to `states` decoder states.
    pub(crate) fn new(model: Model, weights: PartialWeights, states: usize) -> Self {
        let to = match weights {
            PartialWeights::Model => None,
            PartialWeights::Quantized(t) => Some(t),
            PartialWeights::Auto => Some(QuantType::Q8_0),
        };
        Self {
            model,
            to,
            states,
            started: Once::new(),
            pool: OnceLock::new(),
        }
    }

    /// Starts making the copy on a thread of its own (the first call only); a copy that
    /// cannot be made is logged and partials keep the model's own weights.
    pub(crate) fn prepare(self: &Arc<Self>) {
        let Some(to) = self.to else { return };
        self.started.call_once(|| {
            let me = Arc::clone(self);
            let spawned = std::thread::Builder::new()
                .name("stenograph-preview".into())
                .spawn(move || match me.model.quantized_copy(to) {
                    Some(Ok(context)) => {
                        let _ = me.pool.set(StatePool::new(context, me.states));
                    }
                    Some(Err(e)) => {
                        tracing::warn!("partial decodes keep the model's weights: {e}")
                    }
                    None => {}
                });
            if let Err(e) = spawned {
                tracing::warn!("partial decodes keep the model's weights: {e}");
            }
        });
    }

    /// The states of the copy, once it is ready.
    pub(crate) fn pool(&self) -> Option<&StatePool> {
        self.pool.get()
    }

    /// The type of the weights partial decodes use now: `q8_0` once the copy is ready, the
    /// model's own before.
    pub(crate) fn weights(&self) -> String {
        match (self.pool.get(), self.to) {
            (Some(_), Some(t)) => t.name().to_string(),
            _ => self.model.info().tensor_type.clone(),
        }
    }
}
