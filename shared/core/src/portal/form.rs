//! The web form: `/anfrage/{tenant}`. A submission becomes a ticket like a
//! mail does (routing by help topic, acknowledgement with the status link,
//! notifications). Bots are kept out without third parties: a signed form
//! token that carries when it was served (too fast or too old is refused), a
//! honeypot field, and rate limits per client and per mail address.

use super::PortalKey;
use super::files::{Upload, check_uploads};
use crate::outgoing::Notice;
use crate::tickets::{Directory, NewTicketRow, open_ticket, validate_address};
use crate::{AppError, AppResult, Logbuch};
use logbuch_config::{FieldKind, FieldSpec};
use logbuch_domain::{MessageKind, Priority};
use logbuch_store::entity::{message, tenant};
use logbuch_store::{messages, now, portal};
use rand::RngCore;
use sea_orm::Set;

/// What the form shows.
#[derive(Debug, Clone)]
pub struct FormPage {
    pub tenant: String,
    pub tenant_name: String,
    pub topics: Vec<FormTopic>,
    /// The Bund's form only: the LVs a member may pick (code, name).
    pub lvs: Vec<(String, String)>,
    /// Signed; carries when the form was served.
    pub token: String,
    pub max_upload_mb: f64,
}

#[derive(Debug, Clone)]
pub struct FormTopic {
    pub slug: String,
    pub name: String,
    pub fields: Vec<FieldSpec>,
}

/// A submission as it came from the browser.
#[derive(Debug, Clone, Default)]
pub struct FormSubmission {
    pub token: String,
    /// The field people do not see; bots fill it in.
    pub honeypot: String,
    /// The LV a member picked on the Bund's form (empty: the Bund).
    pub lv: String,
    pub topic: String,
    pub name: String,
    pub email: String,
    pub subject: String,
    pub body: String,
    /// The topic's extra fields, by name.
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

/// A problem with one field, said in German.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Submitted {
    pub ticket: i64,
    pub tenant_name: String,
}

fn form_token(key: &PortalKey, tenant: &str) -> String {
    let issued = chrono::Utc::now().timestamp().to_string();
    let mut n = [0u8; 8];
    rand::rng().fill_bytes(&mut n);
    let nonce = hex::encode(n);
    let mac = key.mac(&["form", tenant, &issued, &nonce]);
    format!("{issued}.{nonce}.{mac}")
}

/// When the token was issued, if it is ours and for this tenant's form.
fn token_issued(key: &PortalKey, tenant: &str, token: &str) -> Option<i64> {
    let mut parts = token.trim().splitn(3, '.');
    let (issued, nonce, mac) = (parts.next()?, parts.next()?, parts.next()?);
    let expected = key.mac(&["form", tenant, issued, nonce]);
    // Compared in constant time: the MAC is what a forger would probe.
    let same = expected.len() == mac.len() && expected.bytes().zip(mac.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0;
    same.then(|| issued.parse().ok()).flatten()
}

fn check_field(spec: &FieldSpec, raw: &str) -> Result<Option<String>, String> {
    let v = raw.trim();
    if v.is_empty() {
        return if spec.required { Err(format!("Bitte füllen Sie „{}“ aus.", spec.label)) } else { Ok(None) };
    }
    if v.chars().count() > 1000 {
        return Err(format!("„{}“ darf höchstens 1000 Zeichen lang sein.", spec.label));
    }
    match spec.kind {
        FieldKind::Text => Ok(Some(v.to_owned())),
        FieldKind::Choice => spec
            .choices
            .iter()
            .find(|c| c.as_str() == v)
            .map(|c| Some(c.clone()))
            .ok_or_else(|| format!("Bitte wählen Sie bei „{}“ eine der Möglichkeiten.", spec.label)),
        FieldKind::Date => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .or_else(|_| chrono::NaiveDate::parse_from_str(v, "%d.%m.%Y"))
            .map(|d| Some(d.format("%d.%m.%Y").to_string()))
            .map_err(|_| format!("„{}“: bitte ein Datum wie 31.12.2026 angeben.", spec.label)),
    }
}

fn public_tenant<'d>(dir: &'d Directory, code: &str) -> AppResult<&'d tenant::Model> {
    dir.tenant_by_code("tenant", code).map_err(|_| AppError::NotFound("Dieses Formular gibt es nicht.".into()))
}

impl Logbuch {
    pub(super) fn portal_enabled(&self) -> AppResult<()> {
        if self.settings.portal.enabled {
            Ok(())
        } else {
            Err(AppError::NotFound("Das Anfrageformular ist hier nicht eingeschaltet.".into()))
        }
    }

    /// The form of a tenant (404 for a code that is none).
    pub async fn request_form(&self, tenant: &str) -> AppResult<FormPage> {
        self.portal_enabled()?;
        let dir = self.directory().await?;
        let t = public_tenant(&dir, tenant)?;
        let key = self.portal_key().await?;
        let topics = dir
            .topics(t.id)
            .iter()
            .map(|tp| FormTopic { slug: tp.slug.clone(), name: tp.name.clone(), fields: tp.fields.clone() })
            .collect();
        let mut lvs: Vec<(String, String)> = if Some(t.id) == dir.bund_id() {
            dir.tenants().filter(|o| o.id != t.id).map(|o| (o.code.clone(), o.name.clone())).collect()
        } else {
            Vec::new()
        };
        lvs.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(FormPage {
            tenant: t.code.clone(),
            tenant_name: t.name.clone(),
            topics,
            lvs,
            token: form_token(&key, &t.code),
            max_upload_mb: self.settings.portal.max_upload_bytes as f64 / 1e6,
        })
    }

    /// Takes a submission: spam checks, then the fields, then the rate
    /// limits, then the ticket. `Ok(Err(..))`: fields to correct (nothing
    /// stored); `Err`: refused as a whole (a German reason; nothing stored).
    #[tracing::instrument(skip_all, fields(tenant = %tenant))]
    pub async fn submit_request(
        &self,
        tenant: &str,
        f: FormSubmission,
        client: &str,
    ) -> AppResult<Result<Submitted, Vec<FieldError>>> {
        self.portal_enabled()?;
        let dir = self.directory().await?;
        let t = public_tenant(&dir, tenant)?;
        let key = self.portal_key().await?;
        let settings = &self.settings.portal;
        let Some(issued) = token_issued(&key, &t.code, &f.token) else {
            return Err(AppError::validation(
                "form",
                "Das Formular war nicht mehr gültig. Ihre Angaben stehen noch da – bitte senden Sie es noch einmal ab.",
            ));
        };
        let age = chrono::Utc::now().timestamp() - issued;
        if age > i64::try_from(settings.form_max_age_hours * 3600).unwrap_or(i64::MAX) {
            return Err(AppError::validation(
                "form",
                "Das Formular war zu lange offen. Ihre Angaben stehen noch da – bitte senden Sie es noch einmal ab.",
            ));
        }
        if !f.honeypot.trim().is_empty() {
            tracing::info!("form refused: honeypot filled");
            return Err(AppError::validation(
                "form",
                "Die Anfrage wurde nicht angenommen, weil das Feld „Bitte leer lassen“ ausgefüllt war.",
            ));
        }
        if age < i64::try_from(settings.min_fill_secs).unwrap_or(i64::MAX) {
            tracing::info!("form refused: sent too fast");
            return Err(AppError::validation(
                "form",
                "Das ging schneller, als ein Mensch ein Formular ausfüllen kann. Bitte prüfen Sie Ihre Angaben und senden Sie das Formular noch einmal ab.",
            ));
        }
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
        let limits = &self.settings.limits;
        let email = validate_address("email", &f.email).map_err(|_| ()).ok();
        if email.is_none() {
            bad(
                "email",
                "Bitte geben Sie Ihre Mailadresse an, z. B. name@beispiel.de – dorthin schicken wir die Antwort."
                    .into(),
            );
        }
        let name = f.name.trim().chars().filter(|c| !c.is_control()).take(200).collect::<String>();
        let subject = crate::tickets::validate_subject(&f.subject, limits.max_subject_chars.min(200));
        if let Err(AppError::Validation { message, .. }) = &subject {
            bad("subject", message.clone());
        }
        if f.body.trim().is_empty() {
            bad("body", "Bitte beschreiben Sie Ihr Anliegen.".into());
        } else if f.body.len() > limits.max_body_bytes.min(100_000) {
            bad("body", "Die Beschreibung ist zu lang (höchstens 100.000 Zeichen).".into());
        }
        // The tenant that takes the request: on the Bund's form, the LV the member picked.
        let target = match f.lv.trim() {
            "" => Some(t),
            code if Some(t.id) == dir.bund_id() => dir.tenant_by_code("lv", code).ok(),
            _ => None,
        };
        if target.is_none() {
            bad("lv", "Bitte wählen Sie einen Landesverband aus der Liste.".into());
        }
        let topic = dir.topics(t.id).iter().find(|tp| tp.slug == f.topic);
        if topic.is_none() {
            bad("topic", "Bitte wählen Sie ein Thema aus der Liste.".into());
        }
        let mut values = Vec::new();
        for spec in topic.map(|tp| tp.fields.as_slice()).unwrap_or_default() {
            let raw = f.fields.iter().find(|(n, _)| n == &spec.name).map_or("", |(_, v)| v.as_str());
            match check_field(spec, raw) {
                Ok(Some(v)) => values.push((spec.label.clone(), v)),
                Ok(None) => {}
                Err(m) => bad(&format!("feld_{}", spec.name), m),
            }
        }
        let files = match check_uploads(f.files, settings.max_upload_bytes) {
            Ok(files) => files,
            Err(AppError::Validation { field, message }) => {
                bad(&field, message);
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let (email, subject, target, topic) = match (email, subject, target, topic) {
            (Some(e), Ok(s), Some(ta), Some(to)) if errors.is_empty() => (e, s, ta, to),
            _ => return Ok(Err(errors)),
        };
        let ip_ok = self.within_rate(&key, "form-ip", client, settings.max_per_ip_per_hour).await?;
        let address_ok = self.within_rate(&key, "form-address", &email, settings.max_per_address_per_hour).await?;
        if !ip_ok || !address_ok {
            tracing::info!("form refused: rate limit");
            return Err(AppError::TooManyRequests(
                "In der letzten Stunde sind schon viele Anfragen von Ihnen gekommen. Bitte versuchen Sie es in einer Stunde noch einmal – oder schreiben Sie uns eine Mail.".into(),
            ));
        }
        // The topic as the target tenant has it; its default queue when it has none of that name.
        let queue = match dir.topics(target.id).iter().find(|tp| tp.slug == topic.slug) {
            Some(own) => {
                dir.queue_in("queue", target, Some(&own.queue)).or_else(|_| dir.queue_in("queue", target, None))?
            }
            None => dir.queue_in("queue", target, None)?,
        };
        let txn = logbuch_store::begin_write(&self.store.db).await?;
        let ticket = open_ticket(
            &txn,
            &dir,
            queue,
            NewTicketRow {
                subject: subject.clone(),
                requester: email.clone(),
                requester_name: Some(name),
                priority: Priority::from_rank(queue.default_priority),
                actor: None,
                via: "Webformular",
            },
            None,
        )
        .await?;
        let message_id = crate::outgoing::new_message_id(Some(ticket.id), &self.settings.server.public_url);
        let mut fields = vec![("Thema".to_owned(), topic.name.clone())];
        fields.extend(values);
        let row = message::ActiveModel {
            ticket_id: Set(ticket.id),
            kind: Set(MessageKind::Inbound.as_str().to_owned()),
            author_id: Set(None),
            from_addr: Set(Some(email)),
            subject: Set(Some(subject)),
            message_id_header: Set(Some(message_id.clone())),
            body_text: Set(f.body.trim_end().to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        messages::insert(&txn, row, &files).await?;
        portal::insert_fields(&txn, ticket.id, &fields).await?;
        let mails = self.notify(&txn, &dir, &ticket, Notice::Opened { acknowledge: Some(&message_id) }, None).await?;
        txn.commit().await?;
        self.dispatch_outbox(&mails).await;
        tracing::info!(ticket = ticket.id, "request taken from the web form");
        Ok(Ok(Submitted { ticket: ticket.id, tenant_name: dir.tenant(ticket.tenant_id)?.name.clone() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_tenant_and_key() {
        let key = PortalKey(b"k".to_vec());
        let t = form_token(&key, "nw");
        assert!(token_issued(&key, "nw", &t).is_some());
        assert_eq!(token_issued(&key, "by", &t), None);
        assert_eq!(token_issued(&PortalKey(b"x".to_vec()), "nw", &t), None);
        let (head, _) = t.rsplit_once('.').unwrap();
        assert_eq!(token_issued(&key, "nw", &format!("{head}.00")), None);
        assert_eq!(token_issued(&key, "nw", ""), None);
    }

    #[test]
    fn fields_are_checked_by_kind() {
        let f = |kind, required, choices: &[&str]| FieldSpec {
            name: "x".into(),
            label: "X".into(),
            kind,
            required,
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
        };
        assert!(check_field(&f(FieldKind::Text, true, &[]), " ").is_err());
        assert_eq!(check_field(&f(FieldKind::Text, false, &[]), " "), Ok(None));
        assert_eq!(check_field(&f(FieldKind::Date, false, &[]), "2026-12-31"), Ok(Some("31.12.2026".into())));
        assert_eq!(check_field(&f(FieldKind::Date, false, &[]), "31.12.2026"), Ok(Some("31.12.2026".into())));
        assert!(check_field(&f(FieldKind::Date, false, &[]), "morgen").is_err());
        assert!(check_field(&f(FieldKind::Choice, false, &["a", "b"]), "c").is_err());
        assert_eq!(check_field(&f(FieldKind::Choice, false, &["a", "b"]), "b"), Ok(Some("b".into())));
    }
}
