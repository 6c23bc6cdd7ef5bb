//! `logbuch admin verify | checkpoint`: the tamper-evident record (issue 17).

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
