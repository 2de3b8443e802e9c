//! `stenograph system`: what this build runs on here (CPU backend, instruction sets, GPUs).

use clap::Args;
use stenograph::Error;

#[derive(Args)]
pub struct SystemArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: SystemArgs) -> Result<(), Error> {
    let cpu = stenograph::cpu_backend();
    let gpus = stenograph::gpus();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.json {
        let gpus: Vec<_> = gpus
            .iter()
            .map(|g| {
                serde_json::json!({
                    "index": g.index, "name": g.name,
                    "description": g.description, "memory": g.memory,
                })
            })
            .collect();
        let out = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "cpu_backend": { "variant": cpu.variant, "features": cpu.features },
            "threads": threads,
            "gpu_build": stenograph::GPU_BUILD,
            "gpus": gpus,
        });
        println!("{out:#}");
    } else {
        println!("stenograph {}", env!("CARGO_PKG_VERSION"));
        println!("CPU backend: {} ({})", cpu.variant, cpu.features.join(" "));
        println!("threads: {threads}");
        if !stenograph::GPU_BUILD {
            println!("GPUs: none (a CPU-only build)");
        } else if gpus.is_empty() {
            println!("GPUs: none found");
        }
        for g in &gpus {
            println!(
                "GPU {}: {} ({}, {:.1} GiB)",
                g.index,
                g.name,
                g.description,
                g.memory as f64 / (1u64 << 30) as f64
            );
        }
    }
    Ok(())
}
