//! IMAP intake: one poller per mailbox of the federation file.
//!
//! Only the worker holding a mailbox's lease (in the database) polls it, so
//! with several worker processes each mailbox is polled by exactly one, and
//! another takes over when that one dies (the lease runs out). The poller
//! tracks UIDVALIDITY and the last UID taken: nothing is fetched twice or
//! skipped across restarts; if UIDVALIDITY changes, it starts over and the
//! store's (mailbox, Message-ID) key keeps that from duplicating mail. A
//! mail is marked seen (or moved) only after its bytes are stored.

mod conn;

use anyhow::{Context, bail};
use futures_util::TryStreamExt;
use logbuch_config::MailboxSpec;
use logbuch_core::Logbuch;
use logbuch_core::workers::Cancel;
use logbuch_store::intake;
use secrecy::ExposeSecret;
use std::time::Duration;
use tracing::Instrument;

fn lease(app: &Logbuch) -> Duration {
    Duration::from_secs(app.settings.intake.lease_secs.max(2))
}

/// Longest IDLE before renewing the lease (and re-checking with a UID SEARCH):
/// well inside the lease.
fn idle_for(app: &Logbuch) -> Duration {
    lease(app) / 3
}
/// Without IDLE: how often to look.
const POLL_EVERY: Duration = Duration::from_secs(10);
/// UIDs fetched per FETCH command.
const FETCH_CHUNK: usize = 200;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Runs a poller for every mailbox of the federation until `cancel` fires.
pub async fn run_pollers(app: Logbuch, cancel: Cancel) {
    let mailboxes = match app.federation() {
        Ok(f) => f.mailboxes,
        Err(e) => {
            tracing::error!(error = %e, "no IMAP intake: the federation file does not load");
            return;
        }
    };
    let owner = format!("poller-{}-{:08x}", std::process::id(), rand::random::<u32>());
    let mut tasks = tokio::task::JoinSet::new();
    for spec in mailboxes {
        tasks.spawn(poll_mailbox(app.clone(), spec, owner.clone(), cancel.clone()));
    }
    while tasks.join_next().await.is_some() {}
}

/// Polls one mailbox for as long as this worker holds (or can take) its lease.
pub async fn poll_mailbox(app: Logbuch, spec: MailboxSpec, owner: String, cancel: Cancel) {
    let mut failures = 0u32;
    while !cancel.is_cancelled() {
        let leased =
            intake::take_mailbox_lease(&app.store.db, &spec.name, &owner, now_ms(), now_ms() + ms(lease(&app))).await;
        match leased {
            Ok(true) => match session(&app, &spec, &owner, &cancel).await {
                Ok(()) => failures = 0,
                Err(e) => {
                    failures += 1;
                    tracing::warn!(mailbox = %spec.name, error = format!("{e:#}"), "IMAP session ended; reconnecting");
                }
            },
            Ok(false) => {} // another worker polls it
            Err(e) => tracing::warn!(mailbox = %spec.name, error = %e, "lease check failed"),
        }
        let pause = Duration::from_secs(2u64.saturating_pow(failures.min(6))).min(Duration::from_secs(60));
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = tokio::time::sleep(pause.max(Duration::from_secs(1))) => {}
        }
    }
    let _ = intake::release_mailbox_lease(&app.store.db, &spec.name, &owner).await;
}

/// One connection: take everything new, then wait (IDLE or poll) and repeat,
/// renewing the lease each round; returns when the lease is lost or on error.
async fn session(app: &Logbuch, spec: &MailboxSpec, owner: &str, cancel: &Cancel) -> anyhow::Result<()> {
    let password = spec.password().map_err(anyhow::Error::msg)?;
    let client = conn::connect(spec).await?;
    let mut session =
        client.login(&spec.user, password.expose_secret()).await.map_err(|(e, _)| e).context("IMAP login")?;
    let caps = session.capabilities().await.context("CAPABILITY")?;
    let idle = caps.has_str("IDLE");
    let source = format!("imap:{}", spec.name);
    loop {
        let mailbox = session.select(&spec.folder).await.with_context(|| format!("SELECT {}", spec.folder))?;
        let validity = i64::from(mailbox.uid_validity.context("server sent no UIDVALIDITY")?);
        let state = intake::mailbox_state(&app.store.db, &spec.name).await?;
        let mut last_uid = if state.uid_validity == Some(validity) { state.last_uid } else { 0 };
        if state.uid_validity.is_some_and(|v| v != validity) {
            tracing::warn!(mailbox = %spec.name, "UIDVALIDITY changed; taking the mailbox again (stored mails are not duplicated)");
        }
        let mut uids: Vec<u32> = session
            .uid_search(format!("UID {}:*", last_uid + 1))
            .await
            .context("UID SEARCH")?
            .into_iter()
            .filter(|u| i64::from(*u) > last_uid)
            .collect();
        uids.sort_unstable();
        for chunk in uids.chunks(FETCH_CHUNK) {
            let set = chunk.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            // One trace per fetched chunk: fetch, store, and (in whichever worker) process and commit.
            let span = tracing::info_span!("intake.fetch", mailbox = %spec.name, mails = chunk.len());
            let bodies = async {
                let fetched: Vec<_> =
                    session.uid_fetch(&set, "(UID BODY.PEEK[])").await.context("UID FETCH")?.try_collect().await?;
                let mut bodies: Vec<(u32, Vec<u8>)> =
                    fetched.iter().filter_map(|f| Some((f.uid?, f.body()?.to_vec()))).collect();
                bodies.sort_by_key(|(u, _)| *u);
                let raws: Vec<&[u8]> = bodies.iter().map(|(_, b)| b.as_slice()).collect();
                app.ingest_raw_batch(&source, &raws)
                    .await
                    .map_err(|e| anyhow::anyhow!("storing {} mails: {e}", raws.len()))?;
                anyhow::Ok(bodies)
            }
            .instrument(span)
            .await?;
            if let Some((uid, _)) = bodies.last() {
                last_uid = i64::from(*uid);
            }
            // Stored: now mark or move them on the server, then record progress.
            let done = bodies.iter().map(|(u, _)| u.to_string()).collect::<Vec<_>>().join(",");
            if !done.is_empty() {
                match &spec.move_to {
                    Some(folder) => session.uid_mv(&done, folder).await.context("UID MOVE")?,
                    None => {
                        let _: Vec<_> = session.uid_store(&done, "+FLAGS.SILENT (\\Seen)").await?.try_collect().await?;
                    }
                }
            }
            if !intake::set_mailbox_progress(&app.store.db, &spec.name, owner, validity, last_uid).await? {
                bail!("lost the lease of mailbox {}", spec.name);
            }
            tracing::debug!(mailbox = %spec.name, mails = bodies.len(), last_uid, "mails taken");
        }
        if !intake::set_mailbox_progress(&app.store.db, &spec.name, owner, validity, last_uid).await? {
            bail!("lost the lease of mailbox {}", spec.name);
        }
        if cancel.is_cancelled() {
            let _ = session.logout().await;
            return Ok(());
        }
        if idle {
            let mut handle = session.idle();
            handle.init().await.context("IDLE")?;
            let (wait, _stop) = handle.wait_with_timeout(idle_for(app));
            tokio::select! {
                r = wait => { r.context("IDLE wait")?; }
                _ = cancel.cancelled() => {}
            }
            session = handle.done().await.context("IDLE DONE")?;
        } else {
            tokio::select! {
                _ = tokio::time::sleep(POLL_EVERY.min(idle_for(app))) => {}
                _ = cancel.cancelled() => {}
            }
            session.noop().await.context("NOOP")?;
        }
        if !intake::take_mailbox_lease(&app.store.db, &spec.name, owner, now_ms(), now_ms() + ms(lease(app))).await? {
            bail!("lost the lease of mailbox {}", spec.name);
        }
    }
}
