//! Side-by-side: `stenograph decode X --raw -o -` against `ffmpeg -i X -ac 1 -ar 16000 -f f32le -`
//! on the same files in the same run. Prints a Markdown table of median wall time, CPU time,
//! throughput (audio seconds per second) and the ratio of the two throughputs.
//!
//! Usage: `benches/compare.sh [SECONDS] [RUNS]` (defaults: 600 s of audio, 5 runs each).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use stenograph_benches::speech_fixtures;

/// CPU seconds (user + system) used by reaped child processes so far.
fn children_cpu() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_CHILDREN is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Runs a command, draining its stdout; returns (wall s, CPU s, bytes written).
fn measure(program: &Path, args: &[&str]) -> (f64, f64, usize) {
    let cpu0 = children_cpu();
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0;
    loop {
        match out.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) => panic!("reading output: {e}"),
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{} {args:?} failed", program.display());
    (start.elapsed().as_secs_f64(), children_cpu() - cpu0, total)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u32 = args.next().map_or(600, |s| s.parse().expect("SECONDS"));
    let runs: usize = args.next().map_or(5, |s| s.parse().expect("RUNS"));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let stenograph = root.join("target/release/stenograph");
    assert!(
        stenograph.exists(),
        "build it first: cargo build --release --bin stenograph"
    );
    let ffmpeg = PathBuf::from("ffmpeg");
    let dir = std::env::temp_dir().join("stenograph-bench-fixtures");
    let fixtures = speech_fixtures(&dir, seconds);

    println!("{seconds} s of 44.1 kHz stereo speech per file, median of {runs} runs, 16 kHz mono f32 out\n");
    println!("| format | ffmpeg wall s | ffmpeg CPU s | ffmpeg audio s/s | stenograph wall s | stenograph CPU s | stenograph audio s/s | speed ratio (stenograph / ffmpeg) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (ext, path) in fixtures {
        let p = path.to_str().unwrap();
        let (mut fw, mut fc, mut sw, mut sc) = (vec![], vec![], vec![], vec![]);
        let (mut f_bytes, mut s_bytes) = (0, 0);
        for _ in 0..runs {
            let (w, c, b) = measure(
                &ffmpeg,
                &[
                    "-nostdin",
                    "-loglevel",
                    "error",
                    "-i",
                    p,
                    "-ac",
                    "1",
                    "-ar",
                    "16000",
                    "-f",
                    "f32le",
                    "-",
                ],
            );
            fw.push(w);
            fc.push(c);
            f_bytes = b;
            let (w, c, b) = measure(&stenograph, &["decode", p, "--raw", "-o", "-"]);
            sw.push(w);
            sc.push(c);
            s_bytes = b;
        }
        let audio = f64::from(seconds);
        let (fw, fc, sw, sc) = (median(fw), median(fc), median(sw), median(sc));
        println!(
            "| {ext} | {fw:.3} | {fc:.3} | {:.0} | {sw:.3} | {sc:.3} | {:.0} | {:.2} |",
            audio / fw,
            audio / sw,
            fw / sw
        );
        let (fs, ss) = (f_bytes / 4, s_bytes / 4);
        if fs.abs_diff(ss) > 16_000 {
            eprintln!("warning: {ext}: ffmpeg wrote {fs} samples, stenograph {ss}");
        }
    }
}
