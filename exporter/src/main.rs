//! `model-exporter`: read the configuration, bind both ports, serve, drain on SIGTERM.
//! Everything else lives in the library (see `lib.rs`).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use model_exporter::config::Config;
use model_exporter::server::Exporter;
use model_exporter::{logging, signal};

/// musl's allocator made the static binary four times slower at protobuf decoding (dozens of
/// small allocations per span: 114,000 against 474,000 spans per CPU-second); it uses mimalloc
/// instead, as ripgrep's musl build uses jemalloc. Glibc builds keep the system allocator.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status for a configuration that cannot be used (sysexits' EX_USAGE).
const EX_USAGE: u8 = 64;

fn main() -> ExitCode {
    let config = match Config::try_parse() {
        Ok(config) => config,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // One line, as for every configuration error; `--help` has the rest.
            let text = e.to_string();
            let line = text.lines().next().unwrap_or_default();
            eprintln!("model-exporter: {}", line.trim_start_matches("error: "));
            return ExitCode::from(EX_USAGE);
        }
    };
    let exporter = match Exporter::new(&config) {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!("model-exporter: {e}");
            return ExitCode::from(EX_USAGE);
        }
    };
    logging::init(config.log_format, &config.log);
    match run(&config, exporter) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "exiting");
            ExitCode::FAILURE
        }
    }
}

fn run(config: &Config, exporter: Exporter) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.worker_threads)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let bound = exporter.bind(config.otlp_addr, config.metrics_addr).await?;
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            otlp = %bound.otlp_addr()?,
            metrics = %bound.metrics_addr()?,
            max_series = config.max_series,
            max_body_bytes = config.max_body_bytes,
            "listening"
        );
        bound.serve(signal::shutdown()).await?;
        Ok(())
    })
}
