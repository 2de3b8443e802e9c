//! Any bytes as a ggml model: the core's checks must refuse what whisper.cpp cannot load
//! safely, so whisper.cpp never sees garbage (a crash in it would end the run).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = steno::model::Model::from_bytes(data);
});
