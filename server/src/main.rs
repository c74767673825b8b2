use clap::Parser;

/// mimalloc instead of glibc malloc: profiles of the engine on a multi-gigabyte store showed a
/// quarter of the CPU in glibc's allocator (chunk consolidation and unlinking); the embedded
/// database allocates a great many short-lived objects per query.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use tracing_subscriber::EnvFilter;
use waggle::config::{Cli, Command, LogFormat, Settings};

fn init_logging(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.log).unwrap_or_else(|_| EnvFilter::new(waggle::config::DEFAULT_LOG));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    match settings.log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Human => builder.init(),
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let settings = match Settings::resolve(&args) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("waggle: configuration error: {e:#}");
                    return std::process::ExitCode::from(2);
                }
            };
            init_logging(&settings);
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("waggle: cannot start the runtime: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            match runtime.block_on(waggle::server::run(settings)) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("waggle: {e:#}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
    }
}
