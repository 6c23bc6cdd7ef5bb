//! Bounces: attached to the ticket whose mail bounced where the bounce says
//! which mail that was; otherwise collected into the tenant's ticket of the
//! day. A bounce never opens a ticket of its own.

use super::process::{Outcome, route};
use crate::tickets::Directory;
use crate::{AppResult, Logbuch};
use logbuch_mail::{BounceReport, ParsedMail};
use logbuch_store::entity::bounce;
use logbuch_store::intake::{self, RawMail};
use logbuch_store::{history, messages, now};
use sea_orm::{DatabaseTransaction, Set};

fn describe(report: &BounceReport) -> String {
    report
        .failed
        .iter()
        .map(|f| match &f.status {
            Some(s) => format!("{} ({s})", f.address),
            None => f.address.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Logbuch {
    pub(super) async fn take_bounce(
        &self,
        txn: &DatabaseTransaction,
        dir: &Directory,
        raw: &RawMail,
        m: &ParsedMail,
        report: &BounceReport,
    ) -> AppResult<Outcome> {
        let summary = format!("Unzustellbar: {}", describe(report));
        let original = match &report.original_message_id {
            Some(id) => intake::ticket_by_message_ids(txn, std::slice::from_ref(id)).await?,
            None => None,
        };
        let (ticket_id, tenant_id, matched) = match original {
            Some(id) => {
                let t = intake::find_ticket_for_system(txn, id)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("ticket {id} vanished"))?;
                let mut row = super::process::mail_row(t.id, m, self.settings.limits.max_subject_chars);
                row.body_text = Set(format!("{summary}\n\n{}", m.text));
                messages::insert(txn, row, &[]).await?;
                history::record(txn, t.id, None, "bounce", None, Some(describe(report))).await?;
                (t.id, t.tenant_id, true)
            }
            None => {
                let queues = route(dir, m)?;
                let q = queues.first().copied().ok_or_else(|| anyhow::anyhow!("no queue for a bounce"))?;
                let id = self.collect(txn, dir, q, m, &summary).await?;
                (id, q.tenant_id, false)
            }
        };
        for f in &report.failed {
            intake::insert_bounce(
                txn,
                bounce::ActiveModel {
                    raw_mail_id: Set(raw.id),
                    tenant_id: Set(tenant_id),
                    ticket_id: Set(ticket_id),
                    address: Set(f.address.clone()),
                    status: Set(f.status.clone()),
                    matched: Set(matched),
                    created_at: Set(now()),
                    ..Default::default()
                },
            )
            .await?;
        }
        Ok(if matched { Outcome::BounceAttached(ticket_id) } else { Outcome::Collected(ticket_id) })
    }
}
