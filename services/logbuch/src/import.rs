//! `logbuch admin import rt …`: moving in from another tracker (issue 19),
//! with a progress bar on stderr and the summary on stdout.

use clap::Subcommand;
use logbuch_core::Logbuch;
use logbuch_core::import::{ImportMap, ImportOptions, Progress};
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Request Tracker 5 through its REST2 API. Idempotent: a rerun takes
    /// only new and changed tickets; an interrupted run continues.
    Rt {
        /// RT's address, e.g. https://rt.example.org/rt
        #[arg(long)]
        url: String,
        /// An RT auth token of a user who sees the queues (better through the environment).
        #[arg(long, env = "LOGBUCH_IMPORT_TOKEN", hide_env_values = true)]
        token: String,
        /// The map file (TOML): queues to tenants and queues, people, statuses, priorities.
        #[arg(long)]
        map: PathBuf,
        /// Stop after writing this many tickets; a rerun continues.
        #[arg(long)]
        limit: Option<u64>,
    },
}

/// One line, rewritten in place: counts and the rate.
fn bar(p: &Progress) {
    let pct = if p.total == 0 { 100.0 } else { p.done as f64 * 100.0 / p.total as f64 };
    eprint!(
        "\rImport: {} von {} Tickets ({pct:.0} %), {:.0}/s – neu {}, aktualisiert {}, unverändert {}, übersprungen {}   ",
        p.done,
        p.total,
        p.rate(),
        p.created,
        p.updated,
        p.unchanged,
        p.skipped
    );
    let _ = std::io::stderr().flush();
}

pub async fn run(app: &Logbuch, cmd: ImportCommand) -> anyhow::Result<()> {
    match cmd {
        ImportCommand::Rt { url, token, map, limit } => {
            let map = ImportMap::load(&map)?;
            let mut shown: Option<(std::time::Instant, u64)> = None;
            let report = app
                .import_rt(&url, &token, &map, &ImportOptions { limit }, |p| {
                    let due = match shown {
                        None => true,
                        Some((at, done)) => done != p.done && (at.elapsed().as_millis() >= 200 || p.done == p.total),
                    };
                    if due {
                        shown = Some((std::time::Instant::now(), p.done));
                        bar(p);
                    }
                })
                .await?;
            eprintln!();
            print!("{}", report.summary());
        }
    }
    Ok(())
}
