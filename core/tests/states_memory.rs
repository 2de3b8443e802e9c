//! One model, many states: concurrent calls add decoder buffers, never another copy of the
//! weights. Peak RSS is read from /proc (this test binary runs nothing else).

use std::sync::Barrier;

use stenograph::transcribe::{TranscribeOptions, Transcriber};

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

#[test]
fn concurrent_calls_share_the_weights() {
    let speech: Vec<f32> = (0..16_000 * 8)
        .map(|i| {
            let t = i as f32 / 16_000.0;
            0.3 * (2.0 * std::f32::consts::PI * 180.0 * t).sin() * (t * 9.0).sin().abs()
        })
        .collect();
    let mut opts = TranscribeOptions::default();
    opts.vad = false;
    opts.language = Some("en".into());
    let t = Transcriber::builder()
        .model("base")
        .max_concurrent(4)
        .build()
        .unwrap();
    let weights_mb = t.model().info().file_bytes as f64 / 1e6;
    let loaded = peak_rss_mb();
    t.transcribe_samples(&speech, &opts).unwrap();
    let one_state = peak_rss_mb();
    let state_mb = one_state - loaded;

    let barrier = Barrier::new(4);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                barrier.wait();
                t.transcribe_samples(&speech, &opts).unwrap();
            });
        }
    });
    let four_states = peak_rss_mb();
    let per_state = (four_states - one_state) / 3.0;
    eprintln!(
        "weights {weights_mb:.0} MB; peak RSS {loaded:.0} MB loaded, {one_state:.0} MB after one call \
         ({state_mb:.0} MB of decoder state), {four_states:.0} MB after four at once: \
         {per_state:.0} MB per extra call"
    );
    // A copy of the weights per call would add them on top of the state's own buffers.
    assert!(
        per_state < state_mb + weights_mb / 2.0,
        "each extra call costs {per_state:.0} MB: state {state_mb:.0} MB + weights {weights_mb:.0} MB?"
    );
}
