//! `logbuch admin import rt | redmine …`: moving in from another tracker (issue 19),
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
    /// Redmine through its REST API (an administrator's key: people's mail
    /// addresses are visible only to administrators). Idempotent like `rt`.
    Redmine {
        /// Redmine's address, e.g. https://redmine.example.org
        #[arg(long)]
        url: String,
        /// An administrator's API key (better through the environment).
        #[arg(long, env = "LOGBUCH_IMPORT_KEY", hide_env_values = true)]
        key: String,
        /// Only the map's entries for this project (identifier); default: all of them.
        #[arg(long)]
        project: Option<String>,
        /// The map file (TOML): projects (and custom field values) to tenants and queues, people, statuses, priorities.
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

/// The bar at most five times a second, and at the end.
fn throttled() -> impl FnMut(&Progress) {
    let mut shown: Option<(std::time::Instant, u64)> = None;
    move |p| {
        let due = match shown {
            None => true,
            Some((at, done)) => done != p.done && (at.elapsed().as_millis() >= 200 || p.done == p.total),
        };
        if due {
            shown = Some((std::time::Instant::now(), p.done));
            bar(p);
        }
    }
}

pub async fn run(app: &Logbuch, cmd: ImportCommand) -> anyhow::Result<()> {
    let report = match cmd {
        ImportCommand::Rt { url, token, map, limit } => {
            let map = ImportMap::load(&map)?;
            app.import_rt(&url, &token, &map, &ImportOptions { limit }, throttled()).await?
        }
        ImportCommand::Redmine { url, key, project, map, limit } => {
            let mut map = ImportMap::load(&map)?;
            if let Some(p) = project {
                map.queues.retain(|q| q.source.trim() == p.trim());
                if map.queues.is_empty() {
                    anyhow::bail!("Die Zuordnungsdatei nennt das Projekt „{p}“ nicht ([[queue]] source).");
                }
            }
            app.import_redmine(&url, &key, &map, &ImportOptions { limit }, throttled()).await?
        }
    };
    eprintln!();
    print!("{}", report.summary());
    Ok(())
}
