//! The map file of an import (TOML): which queue or project of the old
//! system goes to which tenant and queue, and how its people, statuses and
//! priorities translate. Read once, then resolved against the database.
//!
//! ```toml
//! rtname = "rt.example"                  # RT: subject tag [rt.example #12]
//! [[queue]]
//! source = "Mitglieder NRW"              # RT queue / Redmine project identifier
//! tenant = "nw"
//! queue = "mitgliederverwaltung"         # default: the tenant's default queue
//! [users]                                # old address → Logbuch person
//! "root@rt.example" = "erika@piratenpartei-nrw.de"
//! [status]                               # old status → new, open, waiting, resolved, skip
//! stalled = "waiting"
//! [priority]                             # old priority → low, normal, high, urgent
//! "0" = "normal"                         # numbers: from this value up
//! "50" = "high"
//! ```

use crate::tickets::Directory;
use crate::{AppError, AppResult};
use logbuch_domain::{Priority, Status};
use logbuch_store::entity::queue;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportMap {
    /// RT's `$rtname`: replies quoting `[rtname #12]` thread into the imported ticket.
    pub rtname: Option<String>,
    /// Names the source in the import record (default: the kind and the URL).
    /// Keep it when the old system moves to another address.
    pub source: Option<String>,
    #[serde(default, rename = "queue")]
    pub queues: Vec<QueueMap>,
    #[serde(default)]
    pub users: BTreeMap<String, String>,
    #[serde(default)]
    pub status: BTreeMap<String, String>,
    #[serde(default)]
    pub priority: BTreeMap<String, String>,
}

/// One queue or project of the old system (for Redmine optionally only the
/// issues with one value of a custom field, such as the Landesverband).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueMap {
    pub source: String,
    /// Redmine: the custom field's name and the value to take.
    pub field: Option<String>,
    pub value: Option<String>,
    pub tenant: String,
    pub queue: Option<String>,
}

impl ImportMap {
    /// Reads a map file; errors name the file and the problem in German.
    pub fn load(path: &std::path::Path) -> AppResult<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            AppError::validation("map", format!("Die Zuordnungsdatei {} lässt sich nicht lesen: {e}", path.display()))
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> AppResult<Self> {
        let map: ImportMap = toml::from_str(text)
            .map_err(|e| AppError::validation("map", format!("Die Zuordnungsdatei ist fehlerhaft: {e}")))?;
        if map.queues.is_empty() {
            return Err(AppError::validation("map", "Die Zuordnungsdatei nennt keine Queue ([[queue]])."));
        }
        Ok(map)
    }
}

/// What a status of the old system becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMap {
    To(Status),
    /// Tickets in this status are not imported (RT's `deleted`).
    Skip,
}

fn parse_status(field: &str, s: &str) -> AppResult<StatusMap> {
    if s == "skip" {
        return Ok(StatusMap::Skip);
    }
    s.parse::<Status>().map(StatusMap::To).map_err(|_| {
        AppError::validation(
            field,
            format!("„{s}“ ist kein Status von Logbuch (new, open, waiting, resolved oder skip)."),
        )
    })
}

/// What an old system's own statuses and priorities become unless the map says otherwise.
#[derive(Debug)]
pub struct Defaults {
    pub status: &'static [(&'static str, StatusMap)],
    pub priority: &'static [(&'static str, Priority)],
}

/// The map checked against the database: queues and people by id.
#[derive(Debug)]
pub struct Resolved {
    /// Per `[[queue]]` of the map, in its order: the Logbuch queue.
    pub queues: Vec<(QueueMap, queue::Model)>,
    /// Old address (lower case) → Logbuch person: the map's `[users]`, then
    /// everyone in Logbuch under the same address.
    pub users: HashMap<String, i64>,
    /// `[users]` entries naming nobody in Logbuch.
    pub unknown_users: Vec<String>,
    status: HashMap<String, StatusMap>,
    /// Exact names, and numeric thresholds ascending.
    priority_names: HashMap<String, Priority>,
    priority_steps: Vec<(i64, Priority)>,
}

impl Resolved {
    /// Resolves the map; `defaults` gives the old system's own statuses and
    /// priority names (the map's `[status]` and `[priority]` win).
    pub(crate) async fn new(
        map: &ImportMap,
        dir: &Directory,
        db: &impl sea_orm::ConnectionTrait,
        defaults: &Defaults,
    ) -> AppResult<Self> {
        let mut queues = Vec::new();
        for q in &map.queues {
            let tenant = dir.tenant_by_code("tenant", &q.tenant)?;
            let target = dir.queue_in("queue", tenant, q.queue.as_deref())?;
            queues.push((q.clone(), target.clone()));
        }
        let mut users: HashMap<String, i64> =
            logbuch_store::users::list_users(db).await?.into_iter().map(|u| (u.email.to_lowercase(), u.id)).collect();
        let mut unknown_users = Vec::new();
        for (from, to) in &map.users {
            match users.get(&to.trim().to_lowercase()).copied() {
                Some(id) => {
                    users.insert(from.trim().to_lowercase(), id);
                }
                None => unknown_users.push(format!("{from} → {to}")),
            }
        }
        let mut status: HashMap<String, StatusMap> =
            defaults.status.iter().map(|(k, v)| ((*k).to_lowercase(), *v)).collect();
        for (k, v) in &map.status {
            status.insert(k.to_lowercase(), parse_status("status", v)?);
        }
        let mut priority_names: HashMap<String, Priority> =
            defaults.priority.iter().map(|(k, v)| ((*k).to_lowercase(), *v)).collect();
        let mut priority_steps = Vec::new();
        for (k, v) in &map.priority {
            let p = v.parse::<Priority>().map_err(|_| {
                AppError::validation(
                    "priority",
                    format!("„{v}“ ist keine Priorität von Logbuch (low, normal, high oder urgent)."),
                )
            })?;
            match k.trim().parse::<i64>() {
                Ok(n) => priority_steps.push((n, p)),
                Err(_) => {
                    priority_names.insert(k.to_lowercase(), p);
                }
            }
        }
        priority_steps.sort_by_key(|(n, _)| *n);
        Ok(Self { queues, users, unknown_users, status, priority_names, priority_steps })
    }

    /// What an old status becomes; `None` when neither the map nor the
    /// old system's defaults know it.
    pub fn status(&self, s: &str) -> Option<StatusMap> {
        self.status.get(&s.to_lowercase()).copied()
    }

    /// What an old priority becomes: a name exactly, a number by the highest
    /// step not above it; `None`: the queue's default.
    pub fn priority(&self, p: &str) -> Option<Priority> {
        if let Some(p) = self.priority_names.get(&p.to_lowercase()) {
            return Some(*p);
        }
        let n = p.trim().parse::<i64>().ok()?;
        self.priority_steps.iter().rev().find(|(step, _)| *step <= n).map(|(_, p)| *p)
    }

    /// The Logbuch person behind an old address or login.
    pub fn user(&self, key: &str) -> Option<i64> {
        self.users.get(&key.trim().to_lowercase()).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_files_parse_and_refuse_unknown_keys() {
        let m = ImportMap::parse(
            "rtname = \"rt.example\"\n[[queue]]\nsource = \"Mitglieder NRW\"\ntenant = \"nw\"\n\
             [users]\n\"root@localhost\" = \"erika@example.org\"\n[status]\nstalled = \"waiting\"\n\
             [priority]\n\"0\" = \"low\"\n\"50\" = \"high\"\nHoch = \"high\"\n",
        )
        .unwrap();
        assert_eq!(m.rtname.as_deref(), Some("rt.example"));
        assert_eq!(m.queues[0].tenant, "nw");
        assert!(ImportMap::parse("[[queue]]\nsource = \"a\"\ntenant = \"nw\"\nfarbe = 1\n").is_err());
        assert!(ImportMap::parse("rtname = \"x\"\n").is_err(), "no queue");
    }

    #[test]
    fn priorities_by_name_and_step() {
        let r = Resolved {
            queues: vec![],
            users: HashMap::new(),
            unknown_users: vec![],
            status: HashMap::new(),
            priority_names: [("hoch".to_owned(), Priority::High)].into(),
            priority_steps: vec![(0, Priority::Low), (50, Priority::High), (90, Priority::Urgent)],
        };
        assert_eq!(r.priority("Hoch"), Some(Priority::High));
        assert_eq!(r.priority("0"), Some(Priority::Low));
        assert_eq!(r.priority("49"), Some(Priority::Low));
        assert_eq!(r.priority("50"), Some(Priority::High));
        assert_eq!(r.priority("100"), Some(Priority::Urgent));
        assert_eq!(r.priority("-1"), None);
        assert_eq!(r.priority("Normal"), None);
    }
}
