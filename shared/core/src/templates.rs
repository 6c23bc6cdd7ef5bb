//! Mail templates and canned responses: texts with variables (ticket
//! number, subject, requester, queue, link), rendered in minijinja's
//! sandbox with a fuel limit. The Bund's templates are the defaults, an LV
//! may override them; built-in German texts stand behind both. A broken
//! template is refused when it is saved, with line and reason — never at
//! send time.

use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_authz::Target;
use logbuch_domain::{Action, Priority, TenantCode};
use logbuch_store::templates;
use logbuch_store::tickets::Ticket;
use minijinja::{Environment, UndefinedBehavior, Value, context};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// (name, what it is for, subject, body)
const BUILTIN: &[(&str, &str, &str, &str)] = &[
    (
        "acknowledgement",
        "Eingangsbestätigung an die anfragende Person",
        "[Logbuch #{{ ticket.number }}] Eingangsbestätigung: {{ ticket.subject }}",
        "{% if requester.name %}Guten Tag {{ requester.name }},{% else %}Guten Tag,{% endif %}\n\n\
vielen Dank für Ihre Nachricht. Wir haben sie unter der Nummer #{{ ticket.number }} erfasst und melden uns so bald wie möglich.\n\n\
Wenn Sie noch etwas ergänzen möchten, antworten Sie einfach auf diese Mail und lassen Sie [Logbuch #{{ ticket.number }}] im Betreff stehen.\n\n\
{% if portal_link %}Den Stand Ihrer Anfrage sehen Sie jederzeit unter diesem persönlichen Link (bitte nicht weitergeben):\n{{ portal_link }}\n\n{% endif %}\
Mit freundlichen Grüßen\n{{ ticket.tenant_name }}\n",
    ),
    (
        "portal.link",
        "Link zur Statusseite (auf Anfrage der Person)",
        "[Logbuch #{{ ticket.number }}] Ihr Link zur Anfrage: {{ ticket.subject }}",
        "Guten Tag,\n\nSie haben einen Link zu Ihrer Anfrage #{{ ticket.number }} angefordert. Unter diesem persönlichen Link \
sehen Sie den Stand und können antworten (bitte nicht weitergeben):\n\n{{ portal_link }}\n\n\
Wenn Sie keinen Link angefordert haben, können Sie diese Mail einfach löschen.\n\nMit freundlichen Grüßen\n{{ ticket.tenant_name }}\n",
    ),
    (
        "portal.new_reply",
        "Neue Antwort auf der Statusseite (vertrauliche Queues)",
        "[Logbuch #{{ ticket.number }}] Es gibt eine neue Antwort",
        "{% if requester.name %}Guten Tag {{ requester.name }},{% else %}Guten Tag,{% endif %}\n\n\
es gibt eine neue Antwort zu Ihrer Anfrage #{{ ticket.number }}. Weil es um vertrauliche Daten geht, schicken wir sie nicht per Mail; \
Sie lesen sie unter Ihrem persönlichen Link (bitte nicht weitergeben):\n\n{{ portal_link }}\n\nMit freundlichen Grüßen\n{{ ticket.tenant_name }}\n",
    ),
    (
        "notification.opened",
        "Neues Ticket (an die Koordination der Queue)",
        "[Logbuch #{{ ticket.number }}] Neu: {{ ticket.subject }}",
        "Ein neues Ticket ist in {{ ticket.queue_name }} ({{ ticket.tenant_name }}) eingegangen.\n\n{% include 'facts' %}",
    ),
    (
        "notification.assigned",
        "Ticket zugewiesen (an die neue Besitzerin)",
        "[Logbuch #{{ ticket.number }}] Ihnen zugewiesen: {{ ticket.subject }}",
        "Dieses Ticket wurde Ihnen zugewiesen.\n\n{% include 'facts' %}",
    ),
    (
        "notification.requester_wrote",
        "Neue Nachricht der anfragenden Person (an Besitzerin und Beobachter)",
        "[Logbuch #{{ ticket.number }}] Neue Nachricht: {{ ticket.subject }}",
        "{{ requester.address }} hat zu diesem Ticket geschrieben.\n\n{% include 'facts' %}",
    ),
    (
        "notification.handed_over",
        "Ticket übergeben (an die Koordination des neuen Verbands)",
        "[Logbuch #{{ ticket.number }}] Übergeben: {{ ticket.subject }}",
        "Dieses Ticket wurde an {{ ticket.tenant_name }} ({{ ticket.queue_name }}) übergeben.\n\n{% include 'facts' %}",
    ),
    (
        "notification.breached",
        "Frist überschritten (an die Queue und die Besitzerin)",
        "[Logbuch #{{ ticket.number }}] Frist überschritten: {{ ticket.subject }}",
        "Bei diesem Ticket ist eine Frist abgelaufen (gezählt in Arbeitszeit){% if breach is defined %}: {{ breach.what }}{% endif %}.\n\n{% include 'facts' %}",
    ),
    (
        "canned.austritt-bestaetigung",
        "Austritt: Bestätigungsnachfrage",
        "Ihr Austritt ({{ ticket.subject }})",
        "{% if requester.name %}Guten Tag {{ requester.name }},{% else %}Guten Tag,{% endif %}\n\n\
wir haben Ihre Austrittserklärung erhalten. Bitte bestätigen Sie uns kurz per Antwort auf diese Mail, dass Sie austreten möchten; \
erst dann können wir den Austritt bearbeiten.\n\nMit freundlichen Grüßen\n{{ ticket.tenant_name }}\n",
    ),
    (
        "canned.austritt-vollzogen",
        "Austritt: Bestätigung des Austritts",
        "Ihr Austritt ist bearbeitet ({{ ticket.subject }})",
        "{% if requester.name %}Guten Tag {{ requester.name }},{% else %}Guten Tag,{% endif %}\n\n\
Ihr Austritt ist in unserer Mitgliederverwaltung gebucht. Danke für die gemeinsame Zeit; \
wir würden uns freuen, Sie wieder bei uns zu sehen.\n\nMit freundlichen Grüßen\n{{ ticket.tenant_name }}\n",
    ),
    (
        "canned.aufnahme-mitteilung",
        "Aufnahme: Mitteilung der Entscheidung",
        "Ihr Mitgliedsantrag ({{ ticket.subject }})",
        "{% if requester.name %}Guten Tag {{ requester.name }},{% else %}Guten Tag,{% endif %}\n\n\
über Ihren Mitgliedsantrag ist entschieden. Die Einzelheiten teilen wir Ihnen in einer gesonderten Nachricht mit; \
bei Fragen antworten Sie einfach auf diese Mail.\n\nMit freundlichen Grüßen\n{{ ticket.tenant_name }}\n",
    ),
];

/// The shared part of notifications; deliberately without the request's text
/// (all communication is confidential: the content stays in Logbuch).
const FACTS: &str = "Ticket:   #{{ ticket.number }}\nBetreff:  {{ ticket.subject }}\nVon:      {{ requester.address }}\n\
Queue:    {{ ticket.tenant }}/{{ ticket.queue }}\nPriorität: {{ ticket.priority }}\n\nÖffnen: {{ ticket.link }}\n";

/// A template as a tenant admin sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateView {
    pub name: String,
    pub label: String,
    pub subject: String,
    pub body: String,
    /// Optional HTML version; variables in it are HTML-escaped.
    pub html: Option<String>,
    /// Where the text comes from: `builtin`, `bund` or the tenant's code.
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub subject: String,
    pub body: String,
    /// Optional HTML version (variables are escaped); the text version is always sent.
    #[serde(default)]
    pub html: Option<String>,
}

/// A rendered template: subject, text, and HTML if the template has one.
pub(crate) type Rendered = (String, String, Option<String>);

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Sandbox: no loader beyond the shared facts, bounded work per render.
    env.set_fuel(Some(20_000));
    env.set_recursion_limit(20);
    let _ = env.add_template("facts", FACTS);
    env
}

/// Renders subject, text and (HTML-escaping) HTML; errors say the part, the line and what is wrong.
fn render(subject: &str, body: &str, html: Option<&str>, ctx: &Value) -> Result<Rendered, String> {
    let env = environment();
    let one = |which: &str, name: &str, src: &str| {
        env.render_named_str(name, src, ctx.clone()).map_err(|e| {
            let line = e.line().map(|l| format!("Zeile {l}: ")).unwrap_or_default();
            let what = e.detail().map(str::to_owned).unwrap_or_else(|| e.kind().to_string());
            format!("{which}, {line}{what}")
        })
    };
    let html = html.filter(|h| !h.trim().is_empty()).map(|h| one("HTML", "vorlage.html", h)).transpose()?;
    Ok((
        one("Betreff", "betreff.txt", subject)?.trim().replace(['\r', '\n'], " "),
        one("Text", "text.txt", body)?,
        html,
    ))
}

/// The variables a template sees.
pub(crate) fn ticket_context(t: &Ticket, tenant: (&str, &str), queue: (&str, &str), link: &str) -> Value {
    context! {
        ticket => context! {
            number => t.id,
            subject => t.subject.clone(),
            tenant => tenant.0,
            tenant_name => tenant.1,
            queue => queue.0,
            queue_name => queue.1,
            priority => Priority::from_rank(t.priority).as_str(),
            link => link,
        },
        requester => context! { name => t.requester_name.clone().unwrap_or_default(), address => t.requester.clone() },
        portal_link => "",
    }
}

fn sample_context() -> Value {
    context! {
        ticket => context! {
            number => 4711, subject => "Beitragsrechnung", tenant => "nw", tenant_name => "Nordrhein-Westfalen",
            queue => "mitgliederverwaltung", queue_name => "Mitgliederverwaltung", priority => "normal",
            link => "https://logbuch.example/tickets/4711",
        },
        requester => context! { name => "Erika Mustermann", address => "erika@example.org" },
        portal_link => "https://logbuch.example/status/0123456789abcdef",
        breach => context! { what => "Erste Antwort" },
    }
}

/// A template name Logbuch knows: a built-in one, or `canned.<lowercase-digits-dashes>`.
pub fn valid_name(name: &str) -> bool {
    BUILTIN.iter().any(|(n, ..)| *n == name)
        || name.strip_prefix("canned.").is_some_and(|s| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

impl Logbuch {
    /// Renders template `name` for a ticket of `tenant_id`: the tenant's own
    /// text, else the Bund's, else the built-in one (templates come with the
    /// cached directory, so rendering needs no database). A stored template
    /// was checked when saved; should it fail anyway, the built-in text is used.
    pub(crate) fn render_for(
        &self,
        dir: &crate::tickets::Directory,
        name: &str,
        ctx: &Value,
        tenant_id: i64,
    ) -> Option<Rendered> {
        let stored = [Some(tenant_id), dir.bund_id()].into_iter().flatten().find_map(|id| dir.template(id, name));
        let builtin = BUILTIN.iter().find(|(n, ..)| *n == name);
        let (s, b, h) = match (stored, builtin) {
            (Some(t), _) => (t.subject.as_str(), t.body.as_str(), t.html.as_deref()),
            (None, Some(b)) => (b.2, b.3, None),
            (None, None) => return None,
        };
        match render(s, b, h, ctx) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::error!(template = name, error = %e, "stored template failed; using the built-in text");
                builtin.and_then(|b| render(b.2, b.3, None, ctx).ok())
            }
        }
    }

    /// Tenant configuration: queues.manage in the tenant (404 if the caller has no role there).
    fn require_tenant_admin(&self, who: &Principal, tenant: &logbuch_authz::TenantRef) -> AppResult<()> {
        let target = Target { tenant, queue: None };
        if self.authz.allows(who, Action::ManageQueues, target) {
            return Ok(());
        }
        let any_role = who.assignments.iter().any(|a| a.tenant.is_none_or(|t| t == tenant.id));
        Err(if any_role {
            AppError::Forbidden(format!("Nur Admins des Verbands {} dürfen Vorlagen ändern.", tenant.code))
        } else {
            AppError::NotFound(format!("Den Verband „{}“ gibt es nicht, oder Sie haben dort keine Rolle.", tenant.code))
        })
    }

    async fn tenant_for_admin(&self, who: &Principal, code: &str) -> AppResult<(i64, TenantCode)> {
        let dir = self.directory().await?;
        let t = dir
            .tenant_by_code("tenant", code)
            .map_err(|_| AppError::NotFound(format!("Den Verband „{code}“ gibt es nicht.")))?;
        let tref = dir.tenant_ref(t.id)?;
        self.require_tenant_admin(who, &tref)?;
        Ok((t.id, tref.code))
    }

    /// Every template and canned response in effect for a tenant, with where it comes from.
    pub async fn list_templates(&self, who: &Principal, tenant: &str) -> AppResult<Vec<TemplateView>> {
        let (tenant_id, code) = self.tenant_for_admin(who, tenant).await?;
        let bund = self.directory().await?.bund_id();
        let stored =
            templates::of_tenants(&self.store.db, &[Some(tenant_id), bund].into_iter().flatten().collect::<Vec<_>>())
                .await?;
        let mut names: Vec<String> = BUILTIN.iter().map(|(n, ..)| (*n).to_owned()).collect();
        names.extend(stored.iter().map(|t| t.name.clone()));
        names.sort();
        names.dedup();
        let mut out = Vec::new();
        for name in names {
            let own = stored.iter().find(|t| t.tenant_id == tenant_id && t.name == name);
            let from_bund = stored.iter().find(|t| Some(t.tenant_id) == bund && t.name == name);
            let builtin = BUILTIN.iter().find(|(n, ..)| *n == name);
            let label = builtin
                .map_or_else(|| format!("Textbaustein {}", name.trim_start_matches("canned.")), |b| b.1.to_owned());
            let (subject, body, html, source) = match (own, from_bund, builtin) {
                (Some(t), ..) => (t.subject.clone(), t.body.clone(), t.html.clone(), code.to_string()),
                (None, Some(t), _) => (t.subject.clone(), t.body.clone(), t.html.clone(), "bund".into()),
                (None, None, Some(b)) => (b.2.to_owned(), b.3.to_owned(), None, "builtin".into()),
                (None, None, None) => continue,
            };
            out.push(TemplateView { name, label, subject, body, html, source });
        }
        Ok(out)
    }

    /// Saves a tenant's template after checking it renders; refuses with line and reason.
    pub async fn save_template(
        &self,
        who: &Principal,
        tenant: &str,
        name: &str,
        input: TemplateInput,
    ) -> AppResult<TemplateView> {
        let (tenant_id, code) = self.tenant_for_admin(who, tenant).await?;
        if !valid_name(name) {
            return Err(AppError::validation(
                "name",
                "Unbekannte Vorlage. Erlaubt sind die eingebauten Namen und Textbausteine „canned.<kleinbuchstaben-und-ziffern>“.",
            ));
        }
        if input.subject.len() > 1000
            || input.body.len() > 100_000
            || input.html.as_ref().is_some_and(|h| h.len() > 200_000)
        {
            return Err(AppError::TooLarge(
                "Vorlagen dürfen höchstens 1000 Zeichen Betreff und 100 kB Text haben.".into(),
            ));
        }
        render(&input.subject, &input.body, input.html.as_deref(), &sample_context())
            .map_err(|e| AppError::validation("template", e))?;
        let html = input.html.as_deref().filter(|h| !h.trim().is_empty());
        templates::upsert(&self.store.db, tenant_id, name, &input.subject, &input.body, html, who.user.0).await?;
        self.invalidate_directory();
        tracing::info!(tenant = %code, template = name, user = %who.user, "template saved");
        self.list_templates(who, tenant)
            .await?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("saved template {name} vanished")))
    }

    /// Removes a tenant's override; the Bund's or the built-in text applies again.
    pub async fn delete_template(&self, who: &Principal, tenant: &str, name: &str) -> AppResult<()> {
        let (tenant_id, _) = self.tenant_for_admin(who, tenant).await?;
        if templates::delete(&self.store.db, tenant_id, name).await? {
            self.invalidate_directory();
            Ok(())
        } else {
            Err(AppError::NotFound(format!("Der Verband hat keine eigene Vorlage „{name}“.")))
        }
    }

    /// The canned responses for a ticket, rendered for it (for staff who may reply).
    pub async fn canned_for_ticket(&self, who: &Principal, id: i64) -> AppResult<Vec<TemplateView>> {
        let dir = self.directory().await?;
        let t = self.load_ticket(&self.store.db, who, id, Action::AddReply, &dir).await?;
        let bund = dir.bund_id();
        let stored =
            templates::of_tenants(&self.store.db, &[Some(t.tenant_id), bund].into_iter().flatten().collect::<Vec<_>>())
                .await?;
        let mut names: Vec<String> = BUILTIN
            .iter()
            .map(|(n, ..)| (*n).to_owned())
            .chain(stored.iter().map(|s| s.name.clone()))
            .filter(|n| n.starts_with("canned."))
            .collect();
        names.sort();
        names.dedup();
        let ctx = self.context_of(&dir, &t)?;
        let mut out = Vec::new();
        for name in names {
            if let Some((subject, body, html)) = self.render_for(&dir, &name, &ctx, t.tenant_id) {
                let label = BUILTIN
                    .iter()
                    .find(|b| b.0 == name)
                    .map_or_else(|| name.trim_start_matches("canned.").to_owned(), |b| b.1.to_owned());
                out.push(TemplateView { name, label, subject, body, html, source: "gerendert".into() });
            }
        }
        Ok(out)
    }

    pub(crate) fn context_of(&self, dir: &crate::tickets::Directory, t: &Ticket) -> AppResult<Value> {
        let tenant = dir.tenant(t.tenant_id)?;
        let queue = dir.queue(t.queue_id)?;
        let link = format!("{}/ui/tickets/{}", self.settings.server.public_url.trim_end_matches('/'), t.id);
        Ok(ticket_context(t, (&tenant.code, &tenant.name), (&queue.slug, &queue.name), &link))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_render() {
        for (name, _, s, b) in BUILTIN {
            let (subject, body, _) = render(s, b, None, &sample_context()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(subject.contains("4711") || name.starts_with("canned."), "{name}: {subject}");
            assert!(!body.is_empty());
        }
    }

    #[test]
    fn broken_templates_say_line_and_reason() {
        let e = render("x", "Hallo\n{{ ticket.number ", None, &sample_context()).unwrap_err();
        assert!(e.contains("Zeile 2"), "{e}");
        let e = render("x", "{{ ticket.nummer }}", None, &sample_context()).unwrap_err();
        assert!(e.contains("Zeile 1"), "{e}");
        let e = render(
            "x",
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            None,
            &sample_context(),
        )
        .unwrap_err();
        assert!(!e.is_empty(), "runaway loops run out of fuel");
    }

    #[test]
    fn html_escapes_variables_text_does_not() {
        let ctx = context! { ticket => context! { subject => "<b>A & B</b>" } };
        let (_, text, html) = render("s", "{{ ticket.subject }}", Some("<p>{{ ticket.subject }}</p>"), &ctx).unwrap();
        assert_eq!(text, "<b>A & B</b>");
        assert_eq!(html.as_deref(), Some("<p>&lt;b&gt;A &amp; B&lt;&#x2f;b&gt;</p>"));
    }

    #[test]
    fn html_part_is_checked_and_escapes_variables() {
        let e = render("x", "y", Some("<p>{{ ticket.nummer }}</p>"), &sample_context()).unwrap_err();
        assert!(e.starts_with("HTML, Zeile 1"), "{e}");
        let ctx = context! { ticket => context! { subject => "<b>A & B</b>" } };
        let (_, text, html) = render("s", "{{ ticket.subject }}", Some("<p>{{ ticket.subject }}</p>"), &ctx).unwrap();
        assert_eq!(text, "<b>A & B</b>");
        assert!(html.as_deref().is_some_and(|h| h.starts_with("<p>&lt;b&gt;A &amp; B")), "{html:?}");
    }

    #[test]
    fn names() {
        assert!(valid_name("acknowledgement"));
        assert!(valid_name("canned.austritt-2"));
        assert!(!valid_name("canned."));
        assert!(!valid_name("canned.Groß"));
        assert!(!valid_name("../etc"));
    }
}
