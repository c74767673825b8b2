//! Benchmarks that print figures (`scripts/bench.sh` builds in release and runs them); figures,
//! not assertions. Each benchmark starts Waggle in this process on a temporary (or kept) store.
//!
//! - `waggle-bench cases` ([`cases`]): the case list, observable lookups, creating cases.
//! - `waggle-bench alerts` ([`alerts`]): alert ingestion, similarity and the triage list.
//! - `waggle-bench dashboards` ([`dashboards`]): statistics of the default dashboards over 1M
//!   alerts, 100k cases, 1M observables.
//! - `waggle-bench analysis` ([`analysis`]): the analysis engine's job overhead, a drained burst
//!   and waiting jobs in memory.
//! - `waggle-bench instances` ([`instances`]): ingestion by one `waggle` process and by two on
//!   one SurrealDB server.
//! - `waggle-bench misp` ([`misp`]): importing a MISP feed directory of 1,000 events.
//! - `waggle-bench reports` ([`reports`]): the report of a case with 50 tasks and 500
//!   observables, as PDF, HTML and markdown.

mod alerts;
mod analysis;
mod cases;
mod common;
mod dashboards;
mod instances;
mod misp;
mod reports;

use clap::{Parser, Subcommand};

/// The same allocator as the `waggle` binary (the benchmark runs the server in its process)...
#[cfg(not(feature = "heap-profile"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// ...or dhat's, which records every allocation's size and call stack (`waggle-bench heap`).
#[cfg(feature = "heap-profile")]
#[global_allocator]
static GLOBAL: dhat::Alloc = dhat::Alloc;

#[derive(Parser)]
#[command(name = "waggle-bench", about = "Waggle benchmarks: print figures")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Case management at scale.
    Cases(cases::CasesArgs),
    /// Alert ingestion, similarity and the triage list at scale.
    Alerts(alerts::AlertsArgs),
    /// Seed alerts, cases and observables, then time every widget of the default dashboards.
    Dashboards(DashboardsArgs),
    /// The analysis engine's overhead with a trivial analyzer.
    Analysis(analysis::AnalysisArgs),
    /// Alert ingestion by one `waggle` process, then by two, on one SurrealDB server.
    Instances(instances::InstancesArgs),
    /// Import of a MISP feed directory of 1,000 events (events/s, attributes/s).
    Misp(misp::MispArgs),
    /// The time to make a big case's report in each format.
    Reports(reports::ReportsArgs),
    /// Start a server on a kept store (`dashboards`' by default), wait for its startup reads
    /// and 10 s more, stop it: built with `--features heap-profile`, dhat writes
    /// `dhat-heap.json` while the server still runs (every allocation live at the start's peak
    /// and at that moment, by call stack); `scripts/heap-breakdown.py` sums both by part.
    Heap {
        #[arg(long, default_value = "target/bench-dashboards")]
        data: std::path::PathBuf,
    },
}

#[derive(clap::Args)]
struct DashboardsArgs {
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
    /// Then serve the store and time the Alert statistics dashboard in headless Chromium.
    #[arg(long)]
    browser: bool,
    /// Then time three starts of the `waggle` binary on the store (first, after a clean stop,
    /// after SIGKILL): until the statistics index serves, and the server's memory.
    #[arg(long)]
    restart: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // A tracing subscriber, as the `waggle` binary installs: without one, `tracing`'s `log`
    // compatibility records every span's fields, and the engine's trace spans on each key read
    // and write format the key (a few percent of the CPU of ingestion): the benchmark would
    // measure a slower server than the one that ships. Warnings and errors only (`WAGGLE_LOG`).
    let filter = std::env::var("WAGGLE_LOG").unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")))
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Cmd::Cases(a) => rt.block_on(cases::run(a)),
        Cmd::Alerts(a) => rt.block_on(alerts::run(a)),
        Cmd::Analysis(a) => rt.block_on(analysis::run(a)),
        Cmd::Instances(a) => rt.block_on(instances::run(a)),
        Cmd::Reports(a) => rt.block_on(reports::run(a)),
        Cmd::Misp(a) => rt.block_on(misp::run(a)),
        Cmd::Heap { data } => rt.block_on(heap(data)),
        Cmd::Dashboards(DashboardsArgs { data, alerts, cases, observables, iterations, browser, restart }) => rt.block_on(
            dashboards::run(dashboards::Options { data, alerts, cases, observables, iterations, browser, restart }),
        ),
    }
}

/// A server on the kept store at `data`, until its statistics index is loaded, the lookup
/// indexes warmed and 10 s more; then the heap profile is written (its "end" is the running
/// server's steady state), and the server stops.
async fn heap(data: std::path::PathBuf) -> anyhow::Result<()> {
    #[cfg(feature = "heap-profile")]
    let profiler = dhat::Profiler::new_heap();
    let mut settings = waggle::config::Settings::ephemeral(&data);
    settings.database = format!("surrealkv://{}?sync=never", data.join("db").display());
    let started = std::time::Instant::now();
    let running = waggle::server::start(settings).await?;
    common::wait_for_startup(&running).await;
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    let s = running.state.stats.stats();
    println!(
        "started in {:.1} s; statistics index: {:?} records, {} MiB by its own count ({}); RSS {} MiB",
        started.elapsed().as_secs_f64(),
        s.records.values().sum::<usize>(),
        s.bytes >> 20,
        s.loaded_from,
        common::memory().0
    );
    #[cfg(feature = "heap-profile")]
    drop(profiler);
    running.stop().await?;
    Ok(())
}
