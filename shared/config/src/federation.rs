//! The federation file: tenants, their queues and the identity-provider
//! group → role mapping. Applied idempotently at start and by
//! `logbuch admin apply FILE`.

use crate::ConfigError;
use chrono::NaiveDate;
use logbuch_domain::calendar::{BusinessHours, Calendar, Land};
use logbuch_domain::{Priority, Role, TenantCode};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::time::Duration;

/// The embedded example describing the whole federation (Bund + 16 LVs).
pub const EMBEDDED_FEDERATION: &str = include_str!("../federation.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Federation {
    #[serde(rename = "tenant")]
    pub tenants: Vec<TenantSpec>,
    #[serde(default, rename = "group")]
    pub groups: Vec<GroupMapping>,
    #[serde(default, rename = "mailbox")]
    pub mailboxes: Vec<MailboxSpec>,
    /// Help topics of the web form for every tenant (an LV may override them).
    #[serde(default, rename = "topic")]
    pub topics: Vec<TopicSpec>,
    /// Processes for every tenant; empty: the built-in ones (`processes.toml`).
    #[serde(default, rename = "process")]
    pub processes: Vec<ProcessSpec>,
}

/// The built-in processes: exit by mail and admission (seed 004).
pub const BUILTIN_PROCESSES: &str = include_str!("../processes.toml");

/// A process (Ablauf) staff start on a ticket: steps in order, each with an
/// optional mail, an optional wait for the requester and a deadline.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProcessSpec {
    pub slug: String,
    pub name: String,
    /// In a tenant: removes the process of this slug.
    #[serde(default, skip_serializing)]
    pub hidden: bool,
    #[serde(default, rename = "step")]
    pub steps: Vec<StepSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub name: String,
    /// A canned response (`canned.…`) mailed to the requester when the step is done.
    pub send: Option<String>,
    /// Done by the requester's answer from the ticket's address, never by staff.
    #[serde(default)]
    pub wait_for_requester: bool,
    /// What the person doing the step must write down.
    pub evidence: Option<String>,
    /// Business time from when the step is due (`2d`).
    pub deadline: Option<String>,
}

/// A tenant's process with deadlines in business minutes of its calendar.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct ResolvedProcess {
    pub slug: String,
    pub name: String,
    pub steps: Vec<ResolvedStep>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct ResolvedStep {
    pub name: String,
    pub send: Option<String>,
    pub wait_for_requester: bool,
    pub evidence: Option<String>,
    pub deadline_minutes: Option<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessFile {
    #[serde(rename = "process")]
    processes: Vec<ProcessSpec>,
}

/// The built-in processes, parsed (the file is part of the build and tested).
pub fn builtin_processes() -> Vec<ProcessSpec> {
    toml::from_str::<ProcessFile>(BUILTIN_PROCESSES).map(|f| f.processes).unwrap_or_default()
}

/// A help topic ("Hilfethema") of the web form: what the request is about,
/// which queue takes it, and the extra fields it asks for.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    pub slug: String,
    pub name: String,
    /// Queue slugs, the first the tenant has takes the request; the tenant's
    /// default queue when it has none of them.
    #[serde(default)]
    pub queues: Vec<String>,
    /// In a tenant: removes the Bund's topic of this slug from its form.
    #[serde(default, skip_serializing)]
    pub hidden: bool,
    #[serde(default, rename = "field")]
    pub fields: Vec<FieldSpec>,
}

/// An extra field of a help topic, stored with the ticket and shown to staff.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// The answers to pick from (kind `choice`).
    #[serde(default)]
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Text,
    Choice,
    Date,
}

/// A tenant's help topic with the queue slug that takes it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct ResolvedTopic {
    pub slug: String,
    pub name: String,
    pub queue: String,
    pub fields: Vec<FieldSpec>,
}

/// How to talk to an IMAP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImapSecurity {
    /// TLS from the first byte (port 993).
    Tls,
    /// Plain connection upgraded with STARTTLS (port 143).
    Starttls,
    /// No encryption: only for a server on the same machine.
    None,
}

/// An IMAP mailbox intake polls. Routing goes by the mail's recipients,
/// not by the mailbox, so one mailbox may serve many queues.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSpec {
    /// A stable name; the polling state is kept under it.
    pub name: String,
    pub host: String,
    pub port: u16,
    pub security: ImapSecurity,
    pub user: String,
    /// The password itself (prefer `password_env`).
    pub password: Option<SecretString>,
    /// Name of the environment variable holding the password.
    pub password_env: Option<String>,
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Move taken mails to this folder instead of marking them seen.
    pub move_to: Option<String>,
}

fn default_folder() -> String {
    "INBOX".into()
}

impl MailboxSpec {
    /// The password from the file or the named environment variable.
    pub fn password(&self) -> Result<SecretString, String> {
        if let Some(p) = &self.password {
            return Ok(p.clone());
        }
        match &self.password_env {
            Some(var) => std::env::var(var)
                .map(SecretString::from)
                .map_err(|_| format!("mailbox {}: environment variable {var} is not set", self.name)),
            None => Err(format!("mailbox {}: needs password or password_env", self.name)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    pub code: TenantCode,
    pub name: String,
    /// Slug of the queue that takes mail no other queue claims.
    pub default_queue: String,
    #[serde(rename = "queue")]
    pub queues: Vec<QueueSpec>,
    /// Help topics of this tenant's form: replace the Bund's of the same slug, or add to them.
    #[serde(default, rename = "topic")]
    pub topics: Vec<TopicSpec>,
    /// Business hours, e.g. `mo-fr 09:00-17:00` (Berlin time); unset: the Bund's, else that.
    pub hours: Option<String>,
    /// Extra closed days (`2026-12-24`), besides the Land's public holidays.
    #[serde(default)]
    pub closed: Vec<String>,
    /// Processes of this tenant: replace the federation's of the same slug, add to or hide them.
    #[serde(default, rename = "process")]
    pub processes: Vec<ProcessSpec>,
    /// Resolved tickets are anonymised or deleted this many months after
    /// their resolution; unset: the Bund's; nowhere set: kept.
    pub retention_months: Option<u32>,
    /// What retention does: `anonymise` (default: the ticket's figures stay
    /// for the reports, everything personal goes) or `delete`; unset: the Bund's.
    pub retention_mode: Option<RetentionMode>,
}

/// What retention does to a ticket past its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetentionMode {
    #[serde(alias = "anonymize")]
    Anonymise,
    Delete,
}

impl RetentionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Anonymise => "anonymise",
            RetentionMode::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default = "default_priority")]
    pub default_priority: Priority,
    /// First response due after this long, e.g. `4h`, `2d`.
    pub first_response: Option<String>,
    /// Resolution due after this long.
    pub resolution: Option<String>,
    /// While a ticket waits, its priority rises one step per this long.
    pub escalation_step: Option<String>,
    /// Fixed addresses told about every new ticket (besides the people holding a role here).
    #[serde(default)]
    pub notify: Vec<String>,
    /// Requesters get an acknowledgement with the ticket number (default on).
    #[serde(default = "yes")]
    pub acknowledge: bool,
    /// Sensitive: replies are never mailed in clear, the requester gets a
    /// link to the status page instead.
    #[serde(default)]
    pub portal_only: bool,
    /// Months after resolution this queue's tickets are kept (overrides the tenant's).
    pub retention_months: Option<u32>,
    /// OpenPGP (seed 004: member and finance matters encrypted): the queue
    /// gets a key pair; incoming encrypted mail is decrypted, replies to a
    /// requester with a known key leave encrypted and signed. `required`:
    /// never a reply in clear (without a key the requester gets a link to
    /// the status page, or the reply is held).
    pub encryption: Option<Encryption>,
}

/// A queue's OpenPGP mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    Optional,
    Required,
}

impl Encryption {
    pub fn as_str(self) -> &'static str {
        match self {
            Encryption::Optional => "optional",
            Encryption::Required => "required",
        }
    }
}

fn yes() -> bool {
    true
}

fn default_priority() -> Priority {
    Priority::Normal
}

/// Members of `group` at the identity provider hold `role` in `tenant`
/// (all of it, or only `queues`). Federal roles take no tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupMapping {
    pub group: String,
    pub role: Role,
    pub tenant: Option<TenantCode>,
    #[serde(default)]
    pub queues: Vec<String>,
}

impl Federation {
    /// The help topics of `tenant`'s form: the federation's, replaced, added
    /// to or hidden by the tenant's own, each with the queue that takes it.
    pub fn topics_for(&self, tenant: &TenantSpec) -> Vec<ResolvedTopic> {
        let mut specs: Vec<&TopicSpec> = self.topics.iter().collect();
        for own in &tenant.topics {
            specs.retain(|t| t.slug != own.slug);
            if !own.hidden {
                specs.push(own);
            }
        }
        if specs.is_empty() {
            // A form needs a topic: without any, one that goes to the default queue.
            return vec![ResolvedTopic {
                slug: "anfrage".into(),
                name: "Anfrage".into(),
                queue: tenant.default_queue.clone(),
                fields: Vec::new(),
            }];
        }
        specs
            .into_iter()
            .map(|t| ResolvedTopic {
                slug: t.slug.clone(),
                name: t.name.clone(),
                queue: t
                    .queues
                    .iter()
                    .find(|s| tenant.queues.iter().any(|q| &q.slug == *s))
                    .cloned()
                    .unwrap_or_else(|| tenant.default_queue.clone()),
                fields: t.fields.clone(),
            })
            .collect()
    }

    /// The processes of `tenant`: the federation's (or the built-in ones),
    /// replaced, added to or hidden by the tenant's own, with deadlines in
    /// business minutes of its calendar.
    pub fn processes_for(&self, tenant: &TenantSpec) -> Vec<ResolvedProcess> {
        let builtin;
        let base = if self.processes.is_empty() {
            builtin = builtin_processes();
            &builtin
        } else {
            &self.processes
        };
        let mut specs: Vec<&ProcessSpec> = base.iter().collect();
        for own in &tenant.processes {
            specs.retain(|p| p.slug != own.slug);
            if !own.hidden {
                specs.push(own);
            }
        }
        let cal = self.calendar_for(tenant);
        specs
            .into_iter()
            .map(|p| ResolvedProcess {
                slug: p.slug.clone(),
                name: p.name.clone(),
                steps: p
                    .steps
                    .iter()
                    .map(|s| ResolvedStep {
                        name: s.name.clone(),
                        send: s.send.clone(),
                        wait_for_requester: s.wait_for_requester,
                        evidence: s.evidence.clone(),
                        deadline_minutes: s.deadline.as_deref().and_then(|d| business_minutes(d, &cal)),
                    })
                    .collect(),
            })
            .collect()
    }

    /// How long a queue's resolved tickets are kept, in months, and what
    /// happens then: the queue's months, else the tenant's, else the Bund's;
    /// the tenant's mode, else the Bund's, else anonymise. None: kept.
    pub fn retention_for(&self, tenant: &TenantSpec, queue: &QueueSpec) -> Option<(u32, RetentionMode)> {
        let bund = self.tenants.iter().find(|t| t.code.is_bund());
        let months = queue.retention_months.or(tenant.retention_months).or(bund.and_then(|b| b.retention_months))?;
        let mode = tenant.retention_mode.or(bund.and_then(|b| b.retention_mode)).unwrap_or(RetentionMode::Anonymise);
        Some((months, mode))
    }

    /// The business calendar of `tenant`: its hours (else the Bund's, else
    /// Monday to Friday 9–17), its Land's public holidays (the Bund: the
    /// nationwide ones) and its extra closed days. Validated at parse time.
    pub fn calendar_for(&self, tenant: &TenantSpec) -> Calendar {
        let bund = self.tenants.iter().find(|t| t.code.is_bund());
        let hours = tenant
            .hours
            .as_deref()
            .or(bund.and_then(|b| b.hours.as_deref()))
            .and_then(|h| BusinessHours::parse(h).ok())
            .unwrap_or_default();
        Calendar {
            hours,
            land: Land::from_code(tenant.code.as_str()),
            closed: tenant.closed.iter().filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).collect(),
        }
    }

    pub fn embedded() -> Result<Self, ConfigError> {
        Self::parse(EMBEDDED_FEDERATION, "embedded federation file")
    }

    pub fn load(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates; every problem names the tenant and queue.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { origin: origin.to_owned(), message };
        let fed: Federation = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut codes = HashSet::new();
        let mut addresses = HashSet::new();
        for t in &fed.tenants {
            if !codes.insert(t.code.clone()) {
                return Err(invalid(format!("tenant {} is listed twice", t.code)));
            }
            let mut slugs = HashSet::new();
            for q in &t.queues {
                if !valid_slug(&q.slug) {
                    return Err(invalid(format!(
                        "tenant {}: queue slug „{}“ must be lower-case letters, digits and dashes",
                        t.code, q.slug
                    )));
                }
                if !slugs.insert(q.slug.as_str()) {
                    return Err(invalid(format!("tenant {}: queue {} is listed twice", t.code, q.slug)));
                }
                for d in [&q.first_response, &q.resolution, &q.escalation_step].into_iter().flatten() {
                    parse_duration(d).map_err(|m| invalid(format!("tenant {} queue {}: {m}", t.code, q.slug)))?;
                }
                for a in &q.addresses {
                    let a = a.to_ascii_lowercase();
                    if !a.contains('@') {
                        return Err(invalid(format!("tenant {} queue {}: „{a}“ is no mail address", t.code, q.slug)));
                    }
                    if !addresses.insert(a.clone()) {
                        return Err(invalid(format!("address {a} belongs to two queues")));
                    }
                }
            }
            let months = t.retention_months.iter().map(|m| (String::new(), *m));
            for (what, m) in
                months.chain(t.queues.iter().filter_map(|q| Some((format!(" queue {}", q.slug), q.retention_months?))))
            {
                if !(1..=1200).contains(&m) {
                    return Err(invalid(format!(
                        "tenant {}{what}: retention_months must be 1 to 1200, not {m}",
                        t.code
                    )));
                }
            }
            if let Some(h) = &t.hours {
                BusinessHours::parse(h).map_err(|e| invalid(format!("tenant {}: {e}", t.code)))?;
            }
            for d in &t.closed {
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| invalid(format!("tenant {}: closed day „{d}“ is no date like 2026-12-24", t.code)))?;
            }
            if !slugs.contains(t.default_queue.as_str()) {
                return Err(invalid(format!(
                    "tenant {}: default_queue {} is not one of its queues",
                    t.code, t.default_queue
                )));
            }
        }
        for (scope, topics) in std::iter::once(("federation".to_owned(), &fed.topics))
            .chain(fed.tenants.iter().map(|t| (format!("tenant {}", t.code), &t.topics)))
        {
            check_topics(topics).map_err(|m| invalid(format!("{scope}: {m}")))?;
        }
        for (scope, processes) in std::iter::once(("federation".to_owned(), &fed.processes))
            .chain(fed.tenants.iter().map(|t| (format!("tenant {}", t.code), &t.processes)))
        {
            check_processes(processes).map_err(|m| invalid(format!("{scope}: {m}")))?;
        }
        let mut names = HashSet::new();
        for m in &fed.mailboxes {
            if !names.insert(m.name.as_str()) {
                return Err(invalid(format!("mailbox {} is listed twice", m.name)));
            }
            if m.name.starts_with("job:") {
                return Err(invalid(format!("mailbox {}: names beginning with „job:“ are Logbuch's own", m.name)));
            }
            if m.password.is_none() && m.password_env.is_none() {
                return Err(invalid(format!("mailbox {}: needs password or password_env", m.name)));
            }
        }
        if !codes.contains(&TenantCode::bund()) {
            return Err(invalid("the federation needs the tenant „bund“".into()));
        }
        for g in &fed.groups {
            match (&g.tenant, g.role.is_global()) {
                (Some(_), true) => {
                    return Err(invalid(format!(
                        "group {}: role {} holds everywhere and takes no tenant",
                        g.group, g.role
                    )));
                }
                (None, false) => {
                    return Err(invalid(format!("group {}: role {} needs a tenant", g.group, g.role)));
                }
                (Some(code), false) => {
                    let Some(t) = fed.tenants.iter().find(|t| &t.code == code) else {
                        return Err(invalid(format!("group {}: unknown tenant {code}", g.group)));
                    };
                    if let Some(q) = g.queues.iter().find(|q| !t.queues.iter().any(|tq| &tq.slug == *q)) {
                        return Err(invalid(format!("group {}: tenant {code} has no queue {q}", g.group)));
                    }
                }
                (None, true) => {}
            }
        }
        Ok(fed)
    }
}

fn check_topics(topics: &[TopicSpec]) -> Result<(), String> {
    let mut slugs = HashSet::new();
    for t in topics {
        if !valid_slug(&t.slug) || !slugs.insert(t.slug.as_str()) {
            return Err(format!(
                "topic slug „{}“ is listed twice or not lower-case letters, digits and dashes",
                t.slug
            ));
        }
        let mut names = HashSet::new();
        for f in &t.fields {
            if !valid_slug(&f.name) || !names.insert(f.name.as_str()) {
                return Err(format!("topic {}: field „{}“ is listed twice or no slug", t.slug, f.name));
            }
            if (f.kind == FieldKind::Choice) == f.choices.is_empty() {
                return Err(format!(
                    "topic {}: field {}: choices belong to kind choice, and it needs them",
                    t.slug, f.name
                ));
            }
        }
    }
    Ok(())
}

fn check_processes(processes: &[ProcessSpec]) -> Result<(), String> {
    let mut slugs = HashSet::new();
    for p in processes {
        if !valid_slug(&p.slug) || !slugs.insert(p.slug.as_str()) {
            return Err(format!(
                "process slug „{}“ is listed twice or not lower-case letters, digits and dashes",
                p.slug
            ));
        }
        if p.steps.is_empty() && !p.hidden {
            return Err(format!("process {}: needs at least one [[process.step]]", p.slug));
        }
        for (n, s) in p.steps.iter().enumerate() {
            let step = format!("process {} step {}", p.slug, n + 1);
            if s.name.trim().is_empty() {
                return Err(format!("{step}: needs a name"));
            }
            if let Some(send) = &s.send
                && (!send.starts_with("canned.") || s.wait_for_requester)
            {
                return Err(format!(
                    "{step}: send names a canned response („canned.…“) and does not go with wait_for_requester"
                ));
            }
            if let Some(d) = &s.deadline {
                parse_duration(d).map_err(|m| format!("{step}: {m}"))?;
            }
        }
    }
    Ok(())
}

fn valid_slug(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A due time in business minutes of `cal`: `90m` and `4h` are minutes and
/// hours of business time, `2d` two working days of the calendar's average
/// length, `1w` its working week. Checked at parse time; unparsable is `None`.
pub fn business_minutes(s: &str, cal: &Calendar) -> Option<i32> {
    let wall = parse_duration(s).ok()?.as_secs() / 60;
    let s = s.trim();
    let n = s.trim_end_matches(|c: char| !c.is_ascii_digit()).parse::<u64>().ok()?;
    let minutes = if s.ends_with('d') {
        n * cal.hours.week_minutes() / cal.hours.open_days()
    } else if s.ends_with('w') {
        n * cal.hours.week_minutes()
    } else {
        wall
    };
    Some(i32::try_from(minutes).unwrap_or(i32::MAX))
}

/// Parses `90m`, `4h`, `2d`, `1w` (one number and one unit).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("„{s}“ is no duration (like 90m, 4h, 2d, 1w)"))?;
    let minutes = match unit {
        "m" => n,
        "h" => n * 60,
        "d" => n * 60 * 24,
        "w" => n * 60 * 24 * 7,
        _ => return Err(format!("„{s}“ is no duration (like 90m, 4h, 2d, 1w)")),
    };
    if minutes == 0 {
        return Err(format!("„{s}“ must be longer than zero"));
    }
    Ok(Duration::from_secs(minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_file_describes_the_whole_federation() {
        let fed = Federation::embedded().unwrap();
        assert_eq!(fed.tenants.len(), 17);
        for code in
            ["bund", "bw", "by", "be", "bb", "hb", "hh", "he", "mv", "ni", "nw", "rp", "sl", "sn", "st", "sh", "th"]
        {
            assert!(fed.tenants.iter().any(|t| t.code.as_str() == code), "{code} missing");
        }
        let bund = fed.tenants.iter().find(|t| t.code.is_bund()).unwrap();
        let triage = bund.queues.iter().find(|q| q.slug == bund.default_queue).unwrap();
        assert!(triage.addresses.iter().any(|a| a.starts_with("mitglieder@")));
    }

    #[test]
    fn topics_follow_the_bund_unless_the_lv_says_otherwise() {
        let fed = Federation::embedded().unwrap();
        let bund = fed.tenants.iter().find(|t| t.code.is_bund()).unwrap();
        let nw = fed.tenants.iter().find(|t| t.code.as_str() == "nw").unwrap();
        let b = fed.topics_for(bund);
        assert!(!b.is_empty());
        for t in &b {
            assert!(bund.queues.iter().any(|q| q.slug == t.queue), "{t:?}");
        }
        let n = fed.topics_for(nw);
        for t in &n {
            assert!(nw.queues.iter().any(|q| q.slug == t.queue), "{t:?}");
        }
        let mut lv = nw.clone();
        lv.topics = vec![
            TopicSpec {
                slug: b[0].slug.clone(),
                name: "Eigenes".into(),
                queues: vec!["presse".into()],
                hidden: false,
                fields: vec![],
            },
            TopicSpec { slug: b[1].slug.clone(), name: String::new(), queues: vec![], hidden: true, fields: vec![] },
        ];
        let own = fed.topics_for(&lv);
        assert_eq!(own.len(), b.len() - 1);
        assert!(own.iter().any(|t| t.name == "Eigenes" && t.queue == "presse"));
        assert!(!own.iter().any(|t| t.slug == b[1].slug));
        let bare = Federation { topics: vec![], ..fed.clone() };
        let only = bare.topics_for(nw);
        assert_eq!((only.len(), only[0].queue.as_str()), (1, nw.default_queue.as_str()), "a form always has a topic");
    }

    #[test]
    fn due_times_count_business_time() {
        let cal = Calendar::default();
        assert_eq!(business_minutes("90m", &cal), Some(90));
        assert_eq!(business_minutes("8h", &cal), Some(480));
        assert_eq!(business_minutes("2d", &cal), Some(2 * 8 * 60), "a working day of mo-fr 9-17 has 8 hours");
        assert_eq!(business_minutes("1w", &cal), Some(5 * 8 * 60));
        let short = Calendar { hours: BusinessHours::parse("mo-do 09:00-17:00; fr 09:00-13:00").unwrap(), ..cal };
        assert_eq!(business_minutes("1d", &short), Some((4 * 480 + 240) / 5));
        let fed = Federation::embedded().unwrap();
        let nw = fed.tenants.iter().find(|t| t.code.as_str() == "nw").unwrap();
        assert_eq!(fed.calendar_for(nw).land, Some(Land::Nw));
        let bund = fed.tenants.iter().find(|t| t.code.is_bund()).unwrap();
        assert_eq!(fed.calendar_for(bund).land, None, "the Bund keeps the nationwide holidays");
    }

    #[test]
    fn processes_are_built_in_and_an_lv_sets_its_own_deadlines() {
        let builtin = builtin_processes();
        assert_eq!(builtin.iter().map(|p| p.slug.as_str()).collect::<Vec<_>>(), ["austritt", "aufnahme"]);
        check_processes(&builtin).unwrap();
        let fed = Federation::embedded().unwrap();
        let by = fed.tenants.iter().find(|t| t.code.as_str() == "by").unwrap();
        let exit = fed.processes_for(by).into_iter().find(|p| p.slug == "austritt").unwrap();
        assert_eq!(exit.steps.len(), 4);
        assert!(exit.steps[1].wait_for_requester);
        assert_eq!(exit.steps[0].deadline_minutes, Some(2 * 8 * 60), "two working days of 8 hours");
        let consent = |code: &str| {
            let t = fed.tenants.iter().find(|t| t.code.as_str() == code).unwrap();
            let p = fed.processes_for(t).into_iter().find(|p| p.slug == "aufnahme").unwrap();
            p.steps[1].deadline_minutes
        };
        assert_eq!(consent("rp"), Some(10 * 480), "RP: 14 days = 10 working days");
        assert_eq!(consent("nw"), Some(42 * 480), "NW: two months = 42 working days");
        assert_eq!(consent("by"), Some(10 * 480));
        let bad = ProcessSpec {
            slug: "x".into(),
            name: "X".into(),
            hidden: false,
            steps: vec![StepSpec {
                name: "a".into(),
                send: Some("canned.a".into()),
                wait_for_requester: true,
                evidence: None,
                deadline: None,
            }],
        };
        assert!(check_processes(&[bad]).unwrap_err().contains("step 1"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("4h"), Ok(Duration::from_secs(4 * 3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(2 * 86400)));
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("4 Stunden").is_err());
        assert!(parse_duration("h").is_err());
    }

    #[test]
    fn bad_files_name_the_problem() {
        let two = r#"
[[tenant]]
code = "bund"
name = "Bund"
default_queue = "a"
[[tenant.queue]]
slug = "a"
name = "A"
addresses = ["x@example.org"]
[[tenant.queue]]
slug = "b"
name = "B"
addresses = ["X@example.org"]
"#;
        let err = Federation::parse(two, "t").unwrap_err().to_string();
        assert!(err.contains("x@example.org"), "{err}");
        let global_with_tenant = r#"
[[tenant]]
code = "bund"
name = "Bund"
default_queue = "a"
[[tenant.queue]]
slug = "a"
name = "A"
[[group]]
group = "g"
role = "federal_officer"
tenant = "bund"
"#;
        let err = Federation::parse(global_with_tenant, "t").unwrap_err().to_string();
        assert!(err.contains("takes no tenant"), "{err}");
    }
}
