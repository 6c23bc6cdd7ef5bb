//! Bounces: attached to the ticket whose mail bounced where the bounce says
//! which mail that was (the quoted Message-ID, or our VERP envelope sender); otherwise collected into the tenant's ticket of the
//! day. A bounce never opens a ticket of its own.

use super::process::{Batch, Outcome, route};
use crate::tickets::Directory;
use crate::{AppResult, Logbuch};
use logbuch_mail::{BounceReport, ParsedMail, Reason};
use logbuch_store::entity::bounce;
use logbuch_store::intake::{self, RawMail};
use logbuch_store::{messages, now};
use sea_orm::{DatabaseTransaction, Set};

impl Logbuch {
    /// The ticket a bounce answers, from a recipient like `bounces+t42@example.org`.
    fn verp_ticket(&self, m: &ParsedMail) -> Option<i64> {
        let base = self.settings.outgoing.bounce_address.as_deref()?.to_lowercase();
        let (local, domain) = base.split_once('@')?;
        m.delivered_to.iter().chain(&m.to).chain(&m.cc).find_map(|a| {
            let (l, d) = a.rsplit_once('@')?;
            let n = l.strip_prefix(local)?.strip_prefix("+t")?;
            (d == domain).then(|| n.parse().ok()).flatten()
        })
    }
}

fn describe(report: &BounceReport) -> String {
    if report.failed.is_empty() {
        return "keine Adresse genannt".into();
    }
    report
        .failed
        .iter()
        .map(|f| match &f.status {
            Some(s) => format!("{} ({}, {s})", f.address, f.reason.label()),
            None => format!("{} ({})", f.address, f.reason.label()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A feedback report says the recipient complained; everything else failed delivery.
fn is_complaint(report: &BounceReport) -> bool {
    !report.failed.is_empty() && report.failed.iter().all(|f| f.reason == Reason::Complaint)
}

impl Logbuch {
    pub(super) async fn take_bounce(
        &self,
        txn: &DatabaseTransaction,
        dir: &Directory,
        raw: &RawMail,
        m: &ParsedMail,
        report: &BounceReport,
        batch: &mut Batch,
    ) -> AppResult<Outcome> {
        let summary = if is_complaint(report) {
            format!("Beschwerde (als Spam gemeldet): {}", describe(report))
        } else {
            format!("Unzustellbar: {}", describe(report))
        };
        let mut original = match &report.original_message_id {
            Some(id) => batch.added.get(id).or_else(|| batch.reported.get(id)).copied(),
            None => None,
        };
        if original.is_none() {
            // The envelope sender of our mails names the ticket: bounces+t<n>@…
            original = match self.verp_ticket(m) {
                Some(n) => intake::find_ticket_for_system(txn, n).await?.map(|t| t.id),
                None => None,
            };
        }
        let (ticket_id, tenant_id, matched) = match original {
            Some(id) => {
                let t = intake::find_ticket_for_system(txn, id)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("ticket {id} vanished"))?;
                let mut row = super::process::mail_row(t.id, m, self.settings.limits.max_subject_chars);
                row.body_text = Set(format!("{summary}\n\n{}", m.text));
                let document = format!("{}\n{summary}", m.subject);
                messages::insert_indexed(txn, row, &[], Some(&document), Some(&mut batch.writes)).await?;
                batch.added.insert(m.message_id.clone(), t.id);
                batch.writes.history(t.id, "bounce", None, Some(describe(report)));
                (t.id, t.tenant_id, true)
            }
            None => {
                let queues = route(dir, m)?;
                let q = queues.first().copied().ok_or_else(|| anyhow::anyhow!("no queue for a bounce"))?;
                let id = self.collect(txn, dir, q, m, &summary, batch).await?;
                (id, q.tenant_id, false)
            }
        };
        let rows = report.failed.iter().map(|f| bounce::ActiveModel {
            raw_mail_id: Set(raw.id),
            tenant_id: Set(tenant_id),
            ticket_id: Set(ticket_id),
            address: Set(f.address.clone()),
            status: Set(f.status.clone()),
            reason: Set(Some(f.reason.as_str().to_owned())),
            matched: Set(matched),
            created_at: Set(now()),
            ..Default::default()
        });
        batch.writes.bounces(rows);
        Ok(if matched { Outcome::BounceAttached(ticket_id) } else { Outcome::Collected(ticket_id) })
    }
}
