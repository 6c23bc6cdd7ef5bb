//! `logbuch admin verify | checkpoint | retention`: the tamper-evident record and retention (issue 17).

use logbuch_core::Logbuch;
use std::io::Write;

/// Recomputes every chain; prints the verdict in German and fails at a break.
pub async fn verify(app: &Logbuch) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut shown = std::time::Instant::now();
    let verdict = app
        .verify_record(|done, total| {
            if shown.elapsed().as_millis() >= 250 || done == total {
                shown = std::time::Instant::now();
                eprint!(
                    "\rPrüfe Ticket-Verläufe: {done} von {total} Ticketnummern, {:.0} s   ",
                    started.elapsed().as_secs_f64()
                );
                let _ = std::io::stderr().flush();
            }
        })
        .await?;
    eprintln!();
    for line in verdict.lines() {
        println!("{line}");
    }
    if !verdict.ok() {
        anyhow::bail!("der Verlauf wurde verändert (siehe oben)");
    }
    Ok(())
}

/// Seals what is pending and writes a signed checkpoint.
pub async fn checkpoint(app: &Logbuch) -> anyhow::Result<()> {
    let c = app.write_checkpoint().await?;
    println!(
        "Prüfpunkt {} geschrieben: {} Ketten, {} Einträge, Digest {}, Schlüssel {}.",
        c.id, c.chains, c.entries, c.digest, c.public_key
    );
    Ok(())
}

/// Lists (dry run) or removes the tickets past their retention time, with progress.
pub async fn retention(app: &Logbuch, dry_run: bool) -> anyhow::Result<()> {
    let now = logbuch_store::now();
    if dry_run {
        let due = app.retention_due(now, u64::MAX / 2).await?;
        for d in &due {
            let what = if d.mode == "delete" { "löschen" } else { "anonymisieren" };
            println!(
                "#{:<8} {:5} {:24} erledigt {}  {what}",
                d.number,
                d.tenant,
                d.queue,
                d.resolved_at.format("%d.%m.%Y")
            );
        }
        println!("{} Tickets wären fällig (Probelauf, nichts geändert).", due.len());
        return Ok(());
    }
    let started = std::time::Instant::now();
    let n = app
        .run_retention(now, u64::MAX / 2, |done, total| {
            let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
            eprint!("\rAufbewahrung: {done} von {total} Tickets, {rate:.0}/s   ");
            let _ = std::io::stderr().flush();
        })
        .await?;
    if n > 0 {
        eprintln!();
    }
    println!("{n} Tickets anonymisiert oder gelöscht (je ein Grabstein bleibt).");
    Ok(())
}
