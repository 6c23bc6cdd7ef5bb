//! `logbuch`: the one binary. `serve` (HTTP and background workers),
//! `worker` (workers only), `migrate`, `admin …`.

mod admin;
mod import;
mod records;

use anyhow::Context;
use clap::{Parser, Subcommand};
use logbuch_config::Settings;
use logbuch_core::Logbuch;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "logbuch", version, about = "Logbuch – Request-Tracker für Bund und Landesverbände")]
struct Cli {
    /// Configuration file (TOML). Without one, Logbuch runs on its embedded
    /// default: a SQLite file in ./data, no external service.
    #[arg(long, short, global = true, env = "LOGBUCH_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and run the background workers (the default).
    Serve {
        /// Only HTTP, no background workers (when `logbuch worker` runs elsewhere).
        #[arg(long)]
        no_workers: bool,
        /// Do not migrate the database at start (when a migration job does it).
        #[arg(long)]
        skip_migrations: bool,
    },
    /// Run the background workers only.
    Worker,
    /// Migrate the database schema and apply the federation file, then exit.
    Migrate,
    /// Store one mail from standard input for intake (an MTA pipe: exit 75,
    /// "try again later", when the mail could not be stored).
    Ingest {
        /// Where the mail came from, as shown to admins.
        #[arg(long, default_value = "stdin")]
        source: String,
    },
    /// Administration: federation file, people, roles, tokens.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
}

/// mimalloc instead of glibc's malloc: a list request allocates a few
/// thousand small strings, and glibc's allocator showed up at ~15 % of the
/// server's CPU in `perf` (BENCHMARKS.md, search and scale).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Kept to the end of main: flushes spans still waiting for export.
    let _telemetry = logbuch_telemetry::init();
    let cli = Cli::parse();
    if let Some(Command::Ingest { source }) = &cli.command {
        return match Settings::load(cli.config.as_deref()) {
            Ok(settings) => ingest(settings, source).await,
            Err(e) => {
                eprintln!("Fehler: {e}");
                std::process::ExitCode::from(EX_TEMPFAIL)
            }
        };
    }
    match run(cli, _telemetry.exports_metrics()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Fehler: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, otlp_metrics: bool) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    let command = cli.command.unwrap_or(Command::Serve { no_workers: false, skip_migrations: false });
    if settings.is_embedded() {
        tracing::info!(data_dir = %settings.data_dir.display(), "embedded default: SQLite file, no external service");
    }
    let app = Logbuch::connect(settings).await?;
    match command {
        Command::Serve { no_workers, skip_migrations } => {
            if otlp_metrics {
                // The figures /metrics computes per scrape, pushed over OTLP instead.
                tokio::spawn(logbuch_http::export_figures(app.clone(), logbuch_telemetry::metric_interval()));
            }
            serve(app, !no_workers, !skip_migrations).await
        }
        Command::Worker => {
            let token = shutdown_signal();
            let pollers = tokio::spawn(logbuch_intake::run_pollers(app.clone(), token.clone()));
            logbuch_core::workers::run(app, token).await;
            let _ = pollers.await;
            Ok(())
        }
        Command::Migrate => {
            let report = app.prepare().await?;
            println!("Datenbank ist aktuell. {}", admin::describe_report(&report));
            Ok(())
        }
        Command::Admin(cmd) => admin::run(app, cmd).await,
        Command::Ingest { .. } => unreachable!("handled before connecting"),
    }
}

/// EX_TEMPFAIL from sysexits.h: the MTA keeps the mail and tries again.
const EX_TEMPFAIL: u8 = 75;
/// EX_DATAERR from sysexits.h: the input is no mail and never will be; the MTA bounces it.
const EX_DATAERR: u8 = 65;

/// `logbuch ingest`: reads the mail first, so a database problem never loses it
/// silently — the MTA gets EX_TEMPFAIL and keeps the mail.
async fn ingest(settings: Settings, source: &str) -> std::process::ExitCode {
    use tokio::io::AsyncReadExt;
    // A hard cap far above the quarantine limit: bigger mails are refused, not stored.
    let cap = settings.intake.max_mail_bytes.saturating_mul(4) as u64;
    let mut raw = Vec::new();
    if let Err(e) = tokio::io::stdin().take(cap + 1).read_to_end(&mut raw).await {
        eprintln!("Fehler: Mail nicht lesbar von stdin: {e}");
        return std::process::ExitCode::from(EX_TEMPFAIL);
    }
    if raw.len() as u64 > cap {
        eprintln!("Fehler: Mail größer als {} MB, abgelehnt.", cap / 1_000_000);
        return std::process::ExitCode::from(EX_DATAERR);
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        eprintln!("Fehler: leere Eingabe, keine Mail. Abgelehnt (nicht erneut zustellen).");
        return std::process::ExitCode::from(EX_DATAERR);
    }
    let result = async {
        let app = Logbuch::connect(settings).await?;
        // Only a database that was never prepared (or is older) is prepared
        // here; the server applies the federation file at its start. A pipe
        // that rewrote tenants for every mail would fight the workers for the lock.
        if app.store.needs_migration().await? {
            app.prepare().await?;
        }
        Ok::<_, anyhow::Error>(app.ingest_raw(source, &raw).await?)
    }
    .await;
    match result {
        Ok(i) if i.duplicate => {
            eprintln!("Mail war schon gespeichert (#{}).", i.raw_mail);
            std::process::ExitCode::SUCCESS
        }
        Ok(i) => {
            eprintln!("Mail gespeichert (#{}), wird verarbeitet.", i.raw_mail);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Fehler: Mail nicht gespeichert, bitte später erneut zustellen: {e:#}");
            std::process::ExitCode::from(EX_TEMPFAIL)
        }
    }
}

async fn serve(app: Logbuch, workers: bool, migrate: bool) -> anyhow::Result<()> {
    if migrate {
        let report = app.prepare().await?;
        tracing::info!(summary = %admin::describe_report(&report), "database ready");
    }
    let listen = app.settings.server.listen.clone();
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let url = app.settings.server.public_url.clone();
    match logbuch_core::admin::bootstrap_admin(&app).await? {
        Some(token) => {
            // Shown once on the console (not the log): the way in on a fresh installation.
            println!("\nLogbuch läuft: {url}  (API-Doku: {url}/api/docs)\n");
            println!("Erster Start – Zugang für {}:", logbuch_core::admin::BOOTSTRAP_EMAIL);
            println!("  API-Token: {token}");
            if let Ok(link) = logbuch_core::admin::login_link(&app, logbuch_core::admin::BOOTSTRAP_EMAIL).await {
                println!("  Im Browser anmelden (einmal, 24 Stunden gültig): {url}{link}");
            }
            println!("  Ausprobieren: curl -H 'Authorization: Bearer {token}' {url}/api/v1/me");
            println!(
                "Der Token wird nur jetzt angezeigt. Neue Tokens: logbuch admin token create --user {}\n",
                logbuch_core::admin::BOOTSTRAP_EMAIL
            );
        }
        None => println!("Logbuch läuft: {url}  (API-Doku: {url}/api/docs)"),
    }
    let shutdown = shutdown_signal();
    let worker = workers.then(|| {
        let pollers = tokio::spawn(logbuch_intake::run_pollers(app.clone(), shutdown.clone()));
        let jobs = tokio::spawn(logbuch_core::workers::run(app.clone(), shutdown.clone()));
        async move {
            let _ = tokio::join!(pollers, jobs);
        }
    });
    let token = shutdown.clone();
    logbuch_http::serve(app, listener, async move { token.cancelled().await }).await?;
    if let Some(w) = worker {
        w.await;
    }
    Ok(())
}

/// Cancelled on Ctrl-C or SIGTERM.
fn shutdown_signal() -> logbuch_core::workers::Cancel {
    let cancel = logbuch_core::workers::Cancel::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    c.cancel();
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        c.cancel();
    });
    cancel
}
