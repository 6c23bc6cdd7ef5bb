//! `logbuch admin …`: so a new user can try the API in a minute.

use clap::Subcommand;
use logbuch_config::Federation;
use logbuch_core::{Logbuch, admin};
use logbuch_domain::Role;
use logbuch_store::tenants::ApplyReport;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Apply a federation file (tenants, queues, addresses, group mapping). Idempotent.
    Apply { file: PathBuf },
    /// List tenants and their queues.
    Tenants,
    /// People.
    #[command(subcommand)]
    User(UserCommand),
    /// Role assignments.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Personal API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// A tenant's report for a quarter: tickets in and resolved, times in
    /// business hours, service times kept, topics, backlog (small counts as "< 5").
    Report {
        /// Tenant code (`nw`, `bund`).
        #[arg(long)]
        tenant: String,
        /// Like 2026Q3; default: the current quarter.
        #[arg(long)]
        quarter: Option<String>,
        /// markdown (for the wiki) or csv.
        #[arg(long, default_value = "markdown")]
        format: String,
    },
    /// Check the tamper-evident record: every hash chain of the history and
    /// access log, and the signed checkpoints. Exits with 1 at the first break found.
    Verify,
    /// Seal new history and access-log entries and write a signed checkpoint now.
    Checkpoint,
    /// Move in from another tracker: tickets, messages, notes, files,
    /// people and history into the tenants and queues of a map file.
    #[command(subcommand)]
    Import(crate::import::ImportCommand),
    /// Anonymise or delete the resolved tickets past their retention time
    /// (federation file: retention_months), as the scheduled work does.
    Retention {
        /// Only list what would go.
        #[arg(long)]
        dry_run: bool,
    },
    /// Load demonstration data: German tickets over all tenants, sized like
    /// the real associations, with demo helpers per tenant and a federal officer.
    SeedDemo {
        /// How many tickets (about three messages each).
        #[arg(long, default_value_t = 10_000)]
        tickets: u64,
        /// The same seed gives the same data.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Batches loaded side by side (PostgreSQL; SQLite loads one at a time).
        #[arg(long, default_value_t = 2)]
        parallel: usize,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a person.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List people and their roles.
    List,
}

#[derive(clap::Args)]
pub struct RoleArgs {
    /// The person's mail address.
    #[arg(long)]
    user: String,
    /// helper, reader, tenant_admin, federal_officer or admin.
    #[arg(long)]
    role: String,
    /// Tenant code (bund, nw, by, …); not for federal_officer/admin.
    #[arg(long)]
    tenant: Option<String>,
    /// Limit the role to one queue of the tenant.
    #[arg(long)]
    queue: Option<String>,
}

#[derive(Subcommand)]
pub enum RoleCommand {
    /// Grant a role.
    Grant(RoleArgs),
    /// Revoke a role.
    Revoke(RoleArgs),
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is shown once.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List a person's tokens: name, created, last used, revoked (never the token itself).
    List {
        #[arg(long)]
        user: String,
    },
    /// Revoke a person's tokens: all, or those with `--name`. Refused from the next request on.
    Revoke {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// A one-time browser login link (24 hours), for use without an identity provider.
    Link {
        #[arg(long)]
        user: String,
    },
}

pub fn describe_report(r: &ApplyReport) -> String {
    let mut s = format!(
        "Föderation: {} Verbände neu, {} Queues neu, {} Queues geändert.",
        r.tenants_created, r.queues_created, r.queues_updated
    );
    if !r.queues_not_in_file.is_empty() {
        s.push_str(&format!(" Nicht mehr in der Datei (behalten): {}.", r.queues_not_in_file.join(", ")));
    }
    s
}

pub async fn run(app: Logbuch, cmd: AdminCommand) -> anyhow::Result<()> {
    // Admin commands work on a database no server has touched yet.
    app.prepare().await?;
    match cmd {
        AdminCommand::Apply { file } => {
            let fed = Federation::load(&file)?;
            let report = admin::apply_federation(&app, &fed).await?;
            println!("{}", describe_report(&report));
        }
        AdminCommand::Report { tenant, quarter, format } => {
            let q = quarter.unwrap_or_else(|| logbuch_core::reports::quarter_of(logbuch_store::now()));
            let (from, to, _) = logbuch_core::reports::quarter(&q)?;
            let report = app.report(&admin::operator(), &tenant, from, to).await?;
            match format.as_str() {
                "csv" => print!("{}", report.csv()),
                "markdown" => print!("{}", report.markdown()),
                other => anyhow::bail!("unknown format {other}: markdown or csv"),
            }
        }
        AdminCommand::Verify => crate::records::verify(&app).await?,
        AdminCommand::Checkpoint => crate::records::checkpoint(&app).await?,
        AdminCommand::Import(cmd) => crate::import::run(&app, cmd).await?,
        AdminCommand::Retention { dry_run } => crate::records::retention(&app, dry_run).await?,
        AdminCommand::Tenants => {
            for t in logbuch_store::tenants::list_tenants(&app.store.db).await? {
                let queues = logbuch_store::tenants::list_queues(&app.store.db, Some(t.id)).await?;
                let slugs: Vec<&str> = queues.iter().map(|q| q.slug.as_str()).collect();
                println!("{:5} {:28} {}", t.code, t.name, slugs.join(", "));
            }
        }
        AdminCommand::User(UserCommand::Create { email, name }) => {
            let u = admin::create_user(&app, &email, &name).await?;
            println!(
                "Angelegt: {} ({}). Nächster Schritt: logbuch admin role grant --user {} --role helper --tenant nw",
                u.email, u.display_name, u.email
            );
        }
        AdminCommand::User(UserCommand::List) => {
            for u in logbuch_store::users::list_users(&app.store.db).await? {
                let p = app.principal_for(u.clone()).await?;
                let me = app.me(&p).await?;
                let roles: Vec<String> = me
                    .roles
                    .iter()
                    .map(|r| match (&r.tenant, &r.queue) {
                        (Some(t), Some(q)) => format!("{}@{t}/{q}", r.role),
                        (Some(t), None) => format!("{}@{t}", r.role),
                        _ => r.role.clone(),
                    })
                    .collect();
                println!(
                    "{:32} {:24} {}{}",
                    u.email,
                    u.display_name,
                    roles.join(" "),
                    if u.active { "" } else { "  (inaktiv)" }
                );
            }
        }
        AdminCommand::SeedDemo { tickets, seed, parallel } => {
            let started = std::time::Instant::now();
            let progress: std::sync::Arc<dyn Fn(u64, u64) + Send + Sync> = std::sync::Arc::new(move |done, total| {
                let secs = started.elapsed().as_secs_f64();
                let rate = done as f64 / secs.max(0.001);
                let left = (total - done) as f64 / rate.max(1.0);
                eprint!(
                    "\rDemodaten: {done} von {total} Tickets ({:.0} %), {rate:.0}/s, noch etwa {left:.0} s   ",
                    done as f64 * 100.0 / total.max(1) as f64
                );
            });
            let opts = logbuch_core::demo::DemoOptions { tickets, seed, parallel };
            let report = logbuch_core::demo::seed_demo(&app, &opts, progress).await?;
            eprintln!();
            println!(
                "{} Tickets geladen (ab #{}) in {:.0} s. Anmelden zum Ausprobieren: {} Helfer ({}), Bundesbeauftragte: {}.",
                report.tickets,
                report.first_ticket,
                started.elapsed().as_secs_f64(),
                report.helpers,
                logbuch_core::demo::helper_email("by", 1),
                logbuch_core::demo::FEDERAL_OFFICER
            );
        }
        AdminCommand::Role(RoleCommand::Grant(a)) => {
            let role: Role = a.role.parse()?;
            let new = admin::grant_role(&app, &a.user, role, a.tenant.as_deref(), a.queue.as_deref()).await?;
            println!("{}", if new { "Rolle vergeben." } else { "Die Person hat diese Rolle schon." });
        }
        AdminCommand::Role(RoleCommand::Revoke(a)) => {
            let role: Role = a.role.parse()?;
            let n = admin::revoke_role(&app, &a.user, role, a.tenant.as_deref(), a.queue.as_deref()).await?;
            println!("{}", if n > 0 { "Rolle entzogen." } else { "Die Person hatte diese Rolle nicht." });
        }
        AdminCommand::Token(TokenCommand::Link { user }) => {
            let path = admin::login_link(&app, &user).await?;
            println!("{}{path}", app.settings.server.public_url.trim_end_matches('/'));
        }
        AdminCommand::Token(TokenCommand::List { user }) => {
            let day = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
            let tokens = admin::tokens(&app, &user).await?;
            if tokens.is_empty() {
                println!("{user} hat keine Tokens.");
            }
            for t in tokens {
                let state = match t.revoked_at {
                    Some(at) => format!("widerrufen {}", day(at)),
                    None => "gültig".to_owned(),
                };
                let used = t.last_used_at.map_or_else(|| "nie".to_owned(), day);
                println!("{:<20} erstellt {}  zuletzt benutzt {used}  {state}", t.name, day(t.created_at));
            }
        }
        AdminCommand::Token(TokenCommand::Revoke { user, name }) => {
            let n = admin::revoke_tokens(&app, &user, name.as_deref()).await?;
            let which = name.map_or_else(String::new, |n| format!(" namens „{n}“"));
            match n {
                0 => println!("{user} hat keine gültigen Tokens{which}; nichts widerrufen."),
                1 => println!("1 Token{which} von {user} widerrufen."),
                n => println!("{n} Tokens{which} von {user} widerrufen."),
            }
        }
        AdminCommand::Token(TokenCommand::Create { user, name }) => {
            let token = admin::create_token(&app, &user, &name).await?;
            println!("{token}");
            eprintln!(
                "Der Token wird nur jetzt angezeigt. Benutzen: curl -H 'Authorization: Bearer {token}' …/api/v1/me"
            );
        }
    }
    Ok(())
}
