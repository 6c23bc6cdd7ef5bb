//! The policy matrix: every role × every action × own queue / other queue of
//! the own tenant / other tenant, run through the use-case layer (where
//! enforcement lives) on both databases.
//!
//! The expectations below are written from the role table in
//! `policies/README.md`, independently of `policy.csv`: if the policy file
//! drifts from the documented roles, this test fails.

use logbuch_authz::Target;
use logbuch_core::tickets::{HandOver, NewMessage, NewTicket, TicketChange};
use logbuch_core::{AppError, AppResult, Principal};
use logbuch_domain::{Action, QueueId, Role, TenantCode, TenantId};
use logbuch_tests::{Backend, TestApp, both, spawn_app};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    OwnQueue,
    OtherQueue,
    OtherTenant,
}

const PLACES: [Place; 3] = [Place::OwnQueue, Place::OtherQueue, Place::OtherTenant];

impl Place {
    /// (tenant, queue, a third queue of the same tenant to move to)
    fn location(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Place::OwnQueue => ("nw", "presse", "sonstiges"),
            Place::OtherQueue => ("nw", "schatzmeister", "sonstiges"),
            Place::OtherTenant => ("by", "mitglieder", "allgemein"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Forbidden,
    NotFound,
}

/// Who: a role, held in all of NW, only in NW/presse, or everywhere (federal roles).
#[derive(Clone, Copy, Debug)]
struct Holder {
    role: Role,
    queue_limited: bool,
}

const HOLDERS: [Holder; 7] = [
    Holder { role: Role::Reader, queue_limited: false },
    Holder { role: Role::Reader, queue_limited: true },
    Holder { role: Role::Helper, queue_limited: false },
    Holder { role: Role::Helper, queue_limited: true },
    Holder { role: Role::TenantAdmin, queue_limited: false },
    Holder { role: Role::FederalOfficer, queue_limited: false },
    Holder { role: Role::Admin, queue_limited: false },
];

fn expected(h: Holder, action: Action, place: Place) -> Outcome {
    let global = h.role.is_global();
    let covers = global
        || match place {
            Place::OwnQueue => true,
            Place::OtherQueue => !h.queue_limited,
            Place::OtherTenant => false,
        };
    if !covers {
        return Outcome::NotFound;
    }
    let works = matches!(h.role, Role::Helper | Role::TenantAdmin | Role::FederalOfficer | Role::Admin);
    let allowed = match action {
        Action::ReadTicket => true,
        Action::CreateTicket
        | Action::TakeTicket
        | Action::AssignTicket
        | Action::WatchTicket
        | Action::SetPriority
        | Action::SetStatus
        | Action::MoveQueue
        | Action::AddNote
        | Action::AddReply
        | Action::Resolve
        | Action::Reopen => works,
        // LV workers may hand back to the Bund (all places here are LVs); federal roles hand over anyway.
        Action::HandBack => works,
        Action::HandOver => global,
        Action::ManageQueues | Action::ManageUsers => matches!(h.role, Role::TenantAdmin | Role::Admin),
        // The intake's quarantine holds every tenant's mail: admins only.
        Action::ManageIntake => h.role == Role::Admin,
        Action::ReadReports | Action::ManageMemberData => {
            matches!(h.role, Role::TenantAdmin | Role::FederalOfficer | Role::Admin)
        }
    };
    if allowed { Outcome::Allowed } else { Outcome::Forbidden }
}

fn outcome(r: AppResult<()>) -> Outcome {
    match r {
        Ok(()) => Outcome::Allowed,
        Err(AppError::Forbidden(_)) => Outcome::Forbidden,
        Err(AppError::NotFound(_)) => Outcome::NotFound,
        Err(e) => panic!("unexpected error: {e:?}"),
    }
}

async fn ticket_at(t: &TestApp, admin: &Principal, place: Place, resolved: bool) -> i64 {
    let (tenant, queue, _) = place.location();
    let d = t
        .app
        .create_ticket(
            admin,
            NewTicket {
                tenant: tenant.into(),
                queue: Some(queue.into()),
                subject: "Matrix".into(),
                body: "Matrix".into(),
                requester: "m@example.org".into(),
                requester_name: None,
                priority: None,
                attachments: vec![],
            },
        )
        .await
        .unwrap();
    if resolved {
        t.app.resolve_ticket(admin, d.ticket.number).await.unwrap();
    }
    d.ticket.number
}

async fn perform(t: &TestApp, who: &Principal, admin: &Principal, action: Action, place: Place) -> AppResult<()> {
    let (tenant, queue, other_queue) = place.location();
    let id = ticket_at(t, admin, place, action == Action::Reopen).await;
    let note = || NewMessage { body: "x".into(), canned: None, attachments: vec![], seen: None };
    let app = &t.app;
    match action {
        Action::ReadTicket => app.get_ticket(who, id).await.map(drop),
        Action::CreateTicket => app
            .create_ticket(
                who,
                NewTicket {
                    tenant: tenant.into(),
                    queue: Some(queue.into()),
                    subject: "Neu".into(),
                    body: "Neu".into(),
                    requester: "n@example.org".into(),
                    requester_name: None,
                    priority: None,
                    attachments: vec![],
                },
            )
            .await
            .map(drop),
        Action::TakeTicket => app.take_ticket(who, id).await.map(drop),
        Action::AssignTicket => app.assign_ticket(who, id, Some("worker@bund.example")).await.map(drop),
        Action::WatchTicket => app.set_watcher(who, id, "worker@bund.example", true).await.map(drop),
        Action::SetPriority => {
            app.change_ticket(who, id, TicketChange { priority: Some("urgent".into()), status: None }).await.map(drop)
        }
        Action::SetStatus => {
            app.change_ticket(who, id, TicketChange { priority: None, status: Some("waiting".into()) }).await.map(drop)
        }
        Action::MoveQueue => app.move_ticket(who, id, other_queue).await.map(drop),
        Action::HandOver => {
            app.hand_over_ticket(who, id, HandOver { tenant: "he".into(), queue: None }).await.map(drop)
        }
        Action::HandBack => {
            app.hand_over_ticket(who, id, HandOver { tenant: "bund".into(), queue: None }).await.map(drop)
        }
        Action::AddNote => app.add_note(who, id, note()).await.map(drop),
        Action::AddReply => app.add_reply(who, id, note()).await.map(drop),
        Action::Resolve => app.resolve_ticket(who, id).await.map(drop),
        Action::Reopen => app.reopen_ticket(who, id).await.map(drop),
        Action::ManageMemberData => app.set_legal_hold(who, id, Some("Prüfung")).await.map(drop),
        Action::ManageQueues | Action::ManageUsers | Action::ManageIntake | Action::ReadReports => {
            // No use case yet beyond the CLI; ask the same enforcement the use cases use.
            let code = TenantCode::parse(tenant).unwrap();
            let tid = logbuch_store::tenants::find_tenant_by_code(&app.store.db, tenant).await.unwrap().unwrap().id;
            let qid = logbuch_store::tenants::find_queue_by_slug(&app.store.db, tid, queue).await.unwrap().unwrap().id;
            let target = logbuch_authz::TenantRef { id: TenantId(tid), code };
            let may = app.authz.allows(who, action, Target { tenant: &target, queue: Some(QueueId(qid)) });
            let sees = app.authz.allows(who, Action::ReadTicket, Target { tenant: &target, queue: Some(QueueId(qid)) });
            match (sees, may) {
                (_, true) => Ok(()),
                (true, false) => Err(AppError::Forbidden(String::new())),
                (false, false) => Err(AppError::NotFound(String::new())),
            }
        }
    }
}

async fn every_role_action_and_place(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin_person = t.person("root@bund.example", &[("admin", None, None)]).await;
    let admin = t.principal(&admin_person).await;
    // The assignee of "assign" and "watch": may work everywhere.
    t.person("worker@bund.example", &[("federal_officer", None, None)]).await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (i, h) in HOLDERS.iter().enumerate() {
        let role = h.role.as_str();
        let spec = match (h.role.is_global(), h.queue_limited) {
            (true, _) => (role, None, None),
            (false, false) => (role, Some("nw"), None),
            (false, true) => (role, Some("nw"), Some("presse")),
        };
        let person = t.person(&format!("holder{i}@example.org"), &[spec]).await;
        let who = t.principal(&person).await;
        for action in Action::ALL {
            for place in PLACES {
                let want = expected(*h, *action, place);
                let got = outcome(perform(&t, &who, &admin, *action, place).await);
                checked += 1;
                if got != want {
                    failures.push(format!("{h:?} {action} at {place:?}: expected {want:?}, got {got:?}"));
                }
            }
        }
    }
    assert_eq!(checked, HOLDERS.len() * Action::ALL.len() * PLACES.len());
    assert!(failures.is_empty(), "{} of {checked} cells wrong:\n{}", failures.len(), failures.join("\n"));
}

both!(every_role_action_and_place);
