//! Benchmarks that print figures. `waggle-bench dashboards --help`.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "waggle-bench", about = "Waggle benchmarks (figures, not pass/fail)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Seed alerts, cases and observables, then time every widget of the default dashboards.
    Dashboards {
        /// Where the benchmark database lives (kept between runs: seeding is done once).
        #[arg(long, default_value = "target/bench-dashboards")]
        data: std::path::PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        alerts: usize,
        #[arg(long, default_value_t = 100_000)]
        cases: usize,
        #[arg(long, default_value_t = 1_000_000)]
        observables: usize,
        /// Runs of each widget.
        #[arg(long, default_value_t = 30)]
        iterations: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Command::Dashboards { data, alerts, cases, observables, iterations } => rt.block_on(waggle::bench::dashboards::run(
            waggle::bench::dashboards::Options { data, alerts, cases, observables, iterations },
        )),
    }
}
