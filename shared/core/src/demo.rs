//! Demonstration data: a federation's worth of tickets in German, sized
//! like the real associations (NW and BY largest, HB and SL smallest), for
//! trying Logbuch out and for the benchmarks (`logbuch admin seed-demo`).
//!
//! The data is a function of the seed: the same seed gives the same tickets.
//! Most tickets are old and resolved; the last weeks hold the open work.

use crate::{AppError, AppResult, Logbuch};
use chrono::{DateTime, Duration, Utc};
use logbuch_domain::Role;
use logbuch_store::entity::{history, message, queue, ticket};
use logbuch_store::{demo, tenants, users};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{DatabaseConnection, DbBackend, Set};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Tickets generated (and committed) together.
const BATCH: u64 = 2000;

/// Share of the tickets per tenant, in thousandths (roughly the members).
const SHARES: &[(&str, u32)] = &[
    ("nw", 180),
    ("by", 150),
    ("bw", 120),
    ("ni", 80),
    ("he", 80),
    ("bund", 80),
    ("be", 70),
    ("sn", 50),
    ("rp", 40),
    ("sh", 40),
    ("hh", 40),
    ("th", 30),
    ("bb", 30),
    ("st", 25),
    ("mv", 20),
    ("sl", 10),
    ("hb", 10),
];

/// Helpers created per tenant (`helfer1.by@demo.logbuch.local`, …).
pub const HELPERS_PER_TENANT: usize = 4;
/// The demo federal officer.
pub const FEDERAL_OFFICER: &str = "bundesbeauftragte@demo.logbuch.local";
/// A word in about one message of 50,000: for trying a rare search.
pub const RARE_WORD: &str = "Fledermausschutz";

/// The mail address of demo helper `n` (from 1) of a tenant.
pub fn helper_email(tenant: &str, n: usize) -> String {
    format!("helfer{n}.{tenant}@demo.logbuch.local")
}

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub tickets: u64,
    pub seed: u64,
    /// Batches loaded side by side (database connections used).
    pub parallel: usize,
}

#[derive(Debug, Clone)]
pub struct DemoReport {
    pub tickets: u64,
    pub first_ticket: i64,
    pub helpers: usize,
}

struct TenantPlan {
    code: String,
    queues: Vec<queue::Model>,
    helpers: Vec<i64>,
}

struct Plan {
    tenants: Vec<TenantPlan>,
    /// Cumulative shares, for a weighted pick.
    cumulative: Vec<u32>,
    first: i64,
    total: u64,
    seed: u64,
    now: DateTime<Utc>,
}

/// Loads `opts.tickets` tickets with about three messages each. `progress`
/// is called with (tickets done, total) after each batch.
pub async fn seed_demo(
    app: &Logbuch,
    opts: &DemoOptions,
    progress: Arc<dyn Fn(u64, u64) + Send + Sync>,
) -> AppResult<DemoReport> {
    let db = app.store.db.clone();
    let mut plan_tenants = Vec::new();
    let mut cumulative = Vec::new();
    let mut sum = 0;
    let mut helpers = 0;
    for (code, share) in SHARES {
        let Some(t) = tenants::find_tenant_by_code(&db, code).await? else { continue };
        let queues = tenants::list_queues(&db, Some(t.id)).await?;
        if queues.is_empty() {
            continue;
        }
        let mut ids = Vec::new();
        for n in 1..=HELPERS_PER_TENANT {
            let email = helper_email(code, n);
            let u = match users::find_user_by_email(&db, &email).await? {
                Some(u) => u,
                None => users::insert_user(&db, &email, &format!("Helfer {n} ({})", code.to_uppercase()), None).await?,
            };
            users::grant_role(&db, u.id, Role::Helper.as_str(), Some(t.id), None, "demo").await?;
            ids.push(u.id);
            helpers += 1;
        }
        sum += share;
        cumulative.push(sum);
        plan_tenants.push(TenantPlan { code: (*code).to_owned(), queues, helpers: ids });
    }
    if plan_tenants.is_empty() {
        return Err(AppError::Conflict("Keine Verbände angelegt: zuerst die Föderationsdatei anwenden.".into()));
    }
    let officer = match users::find_user_by_email(&db, FEDERAL_OFFICER).await? {
        Some(u) => u,
        None => users::insert_user(&db, FEDERAL_OFFICER, "Bundesbeauftragte (Demo)", None).await?,
    };
    users::grant_role(&db, officer.id, Role::FederalOfficer.as_str(), None, None, "demo").await?;

    let first = demo::reserve_ticket_ids(&db, opts.tickets).await?;
    let large = opts.tickets >= 100_000;
    if large {
        demo::suspend_search_index(&db).await?;
    }
    let plan = Arc::new(Plan {
        tenants: plan_tenants,
        cumulative,
        first,
        total: opts.tickets,
        seed: opts.seed,
        now: Utc::now(),
    });
    let batches = opts.tickets.div_ceil(BATCH);
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let parallel = if db.get_database_backend() == DbBackend::Sqlite { 1 } else { opts.parallel.max(1) };
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..parallel {
        let (db, plan, next, done, progress) = (db.clone(), plan.clone(), next.clone(), done.clone(), progress.clone());
        set.spawn(async move {
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= batches {
                    return Ok::<(), AppError>(());
                }
                let n = load_batch(&db, &plan, b).await?;
                let d = done.fetch_add(n, Ordering::Relaxed) + n;
                progress(d, plan.total);
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.map_err(|e| AppError::Internal(anyhow::anyhow!("demo loader: {e}")))??;
    }
    demo::resume_search_index(&db).await?;
    Ok(DemoReport { tickets: opts.tickets, first_ticket: first, helpers })
}

async fn load_batch(db: &DatabaseConnection, plan: &Plan, batch: u64) -> AppResult<u64> {
    let mut rng = StdRng::seed_from_u64(plan.seed ^ batch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let start = batch * BATCH;
    let end = (start + BATCH).min(plan.total);
    let mut tickets = Vec::new();
    let mut messages = Vec::new();
    let mut entries = Vec::new();
    for i in start..end {
        let id = plan.first + i64::try_from(i).unwrap_or(i64::MAX);
        generate_ticket(&mut rng, plan, id, &mut tickets, &mut messages, &mut entries);
    }
    let first = plan.first + i64::try_from(start).unwrap_or(0);
    let last = plan.first + i64::try_from(end).unwrap_or(0) - 1;
    let txn = logbuch_store::begin_write(db).await?;
    demo::insert_batch(&txn, tickets, messages, entries).await?;
    demo::index_messages(&txn, first, last).await?;
    txn.commit().await?;
    Ok(end - start)
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn generate_ticket(
    rng: &mut StdRng,
    plan: &Plan,
    id: i64,
    tickets: &mut Vec<ticket::ActiveModel>,
    messages: &mut Vec<message::ActiveModel>,
    entries: &mut Vec<history::ActiveModel>,
) {
    let total = plan.cumulative.last().copied().unwrap_or(1);
    let roll = rng.random_range(0..total);
    let ti = plan.cumulative.iter().position(|c| roll < *c).unwrap_or(0);
    let tenant = &plan.tenants[ti];
    // The first queue (triage, Mitglieder) takes half of the mail.
    let q = &tenant.queues[if rng.random_bool(0.5) { 0 } else { rng.random_range(0..tenant.queues.len()) }];
    // Ages over three years, denser towards today.
    let age_days = 3.0 * 365.0 * rng.random::<f64>().powi(2);
    let created = plan.now - Duration::seconds((age_days * 86_400.0) as i64);
    let recent = age_days < 21.0;
    let status = match rng.random_range(0..100) {
        r if recent && r < 30 => "new",
        r if recent && r < 60 => "open",
        r if recent && r < 75 => "waiting",
        r if !recent && r < 2 => "open",
        r if !recent && r < 3 => "waiting",
        _ => "resolved",
    };
    let priority = (q.default_priority + rng.random_range(-1..=1)).clamp(1, 4);
    let owner = if status == "new" || rng.random_bool(0.15) { None } else { Some(pick(rng, &tenant.helpers)) };
    let (first_name, last_name) = (pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES));
    let requester = format!(
        "{}.{}@{}",
        ascii(first_name),
        ascii(last_name),
        pick(rng, &["web.de", "gmx.de", "posteo.de", "t-online.de", "mailbox.org", "gmail.com"])
    );
    let topic = &TOPICS[rng.random_range(0..TOPICS.len())];
    let city = pick(rng, CITIES);
    let subject = fill(topic.subject, rng, city);
    let count = pick(rng, &[1usize, 2, 2, 3, 3, 3, 3, 4, 4, 5]);
    let mut at = created;
    for k in 0..count {
        let (kind, from, author, subj) = match k {
            0 => ("inbound", Some(requester.clone()), None, subject.clone()),
            _ if k % 2 == 1 && owner.is_some() && rng.random_bool(0.3) => ("note", None, owner, subject.clone()),
            _ if k % 2 == 1 => ("outbound", None, owner.or(Some(tenant.helpers[0])), format!("Re: {subject}")),
            _ => ("inbound", Some(requester.clone()), None, format!("Re: {subject}")),
        };
        let body = body(rng, kind, topic, city, first_name, last_name);
        messages.push(message::ActiveModel {
            ticket_id: Set(id),
            kind: Set(kind.to_owned()),
            author_id: Set(author),
            from_addr: Set(from),
            to_addrs: Set(None),
            cc_addrs: Set(None),
            subject: Set(Some(subj)),
            message_id_header: Set(Some(format!("<demo-{id}-{k}@demo.logbuch.local>"))),
            in_reply_to: Set((k > 0).then(|| format!("<demo-{id}-{}@demo.logbuch.local>", k - 1))),
            references: Set(None),
            body_text: Set(body),
            body_html: Set(None),
            created_at: Set(at),
            ..Default::default()
        });
        if k + 1 < count {
            at = (at + Duration::minutes(rng.random_range(20..4 * 1440))).min(plan.now);
        }
    }
    let due = |m: Option<i32>| m.map(|m| created + Duration::minutes(i64::from(m)));
    let resolved_at = (status == "resolved").then(|| (at + Duration::minutes(rng.random_range(5..2880))).min(plan.now));
    tickets.push(ticket::ActiveModel {
        waiting_since: Set(None),
        id: Set(id),
        tenant_id: Set(q.tenant_id),
        queue_id: Set(q.id),
        subject: Set(subject),
        status: Set(status.to_owned()),
        priority: Set(priority),
        owner_id: Set(owner),
        requester: Set(requester),
        requester_name: Set(Some(format!("{first_name} {last_name}"))),
        created_at: Set(created),
        updated_at: Set(resolved_at.unwrap_or(at)),
        resolved_at: Set(resolved_at),
        first_response_due: Set(due(q.first_response_minutes)),
        resolution_due: Set(due(q.resolution_minutes)),
        first_responded_at: Set((count > 1).then_some(created + Duration::minutes(30))),
    });
    let entry = |at, actor, field: &str, old: Option<&str>, new: &str| history::ActiveModel {
        ticket_id: Set(id),
        actor_id: Set(actor),
        at: Set(at),
        field: Set(field.to_owned()),
        old_value: Set(old.map(str::to_owned)),
        new_value: Set(Some(new.to_owned())),
        ..Default::default()
    };
    entries.push(entry(created, None, "created", Some("mail"), &format!("{}/{}", tenant.code, q.slug)));
    if let Some(r) = resolved_at {
        entries.push(entry(r, owner, "status", Some("open"), "resolved"));
    }
}

/// The address part of a German name: umlauts spelled out, lower case.
fn ascii(name: &str) -> String {
    let spelled = name.to_lowercase().replace('ä', "ae").replace('ö', "oe").replace('ü', "ue").replace('ß', "ss");
    spelled.replace('ş', "s").replace('ı', "i").chars().filter(char::is_ascii_alphanumeric).collect()
}

fn fill(template: &str, rng: &mut StdRng, city: &str) -> String {
    template
        .replace("{stadt}", city)
        .replace("{jahr}", &rng.random_range(2019..=2026).to_string())
        .replace("{monat}", pick(rng, MONTHS))
        .replace("{betrag}", &format!("{},00 €", rng.random_range(1..=20) * 6))
}

fn body(rng: &mut StdRng, kind: &str, topic: &Topic, city: &str, first: &str, last: &str) -> String {
    let mut out = String::new();
    match kind {
        "inbound" => {
            out.push_str(pick(rng, &["Hallo,", "Liebe Piraten,", "Sehr geehrte Damen und Herren,", "Moin,", "Hi,"]));
            out.push_str("\n\n");
            for _ in 0..rng.random_range(2..=4) {
                out.push_str(&fill(pick(rng, topic.sentences), rng, city));
                out.push(' ');
            }
            out.push_str(&fill(pick(rng, FILLER), rng, city));
            if rng.random_range(0..50_000) == 0 {
                out.push_str(&format!(" PS: Gibt es bei euch eine AG {RARE_WORD}?"));
            }
            out.push_str(&format!(
                "\n\n{}\n{first} {last}",
                pick(rng, &["Viele Grüße", "Gruß", "Beste Grüße", "Danke!"])
            ));
        }
        "outbound" => {
            out.push_str(&format!("Hallo {first} {last},\n\n"));
            for _ in 0..rng.random_range(1..=3) {
                out.push_str(&fill(pick(rng, REPLIES), rng, city));
                out.push(' ');
            }
            out.push_str("\n\nViele Grüße\nDein Team der Mitgliederverwaltung");
        }
        _ => {
            out.push_str(&fill(pick(rng, NOTES), rng, city));
        }
    }
    out
}

struct Topic {
    subject: &'static str,
    sentences: &'static [&'static str],
}

const TOPICS: &[Topic] = &[
    Topic {
        subject: "Frage zum Mitgliedsbeitrag {jahr}",
        sentences: &[
            "Ich habe eine Frage zu meinem Mitgliedsbeitrag für {jahr}.",
            "Laut meinem Kontoauszug wurde der Mitgliedsbeitrag zweimal abgebucht.",
            "Kann ich den Mitgliedsbeitrag auch in Raten zahlen?",
            "Mein Einkommen hat sich geändert, ich möchte einen ermäßigten Beitrag beantragen.",
            "Ich habe {betrag} überwiesen, bitte prüft, ob das angekommen ist.",
        ],
    },
    Topic {
        subject: "Austritt zum {monat}",
        sentences: &[
            "Hiermit erkläre ich meinen Austritt aus der Partei zum {monat}.",
            "Bitte bestätigt mir den Austritt schriftlich.",
            "Die Lastschrift soll ab sofort nicht mehr eingezogen werden.",
            "Ich danke euch für die gemeinsame Zeit in {stadt}.",
        ],
    },
    Topic {
        subject: "Änderung meiner Bankverbindung",
        sentences: &[
            "Ich habe meine Bank gewechselt und möchte die neue IBAN mitteilen.",
            "Das SEPA-Lastschriftmandat bitte auf das neue Konto umstellen.",
            "Die alte Kontoverbindung wird zum {monat} gekündigt.",
            "Muss ich dafür ein neues Formular ausfüllen?",
        ],
    },
    Topic {
        subject: "Adressänderung",
        sentences: &[
            "Ich bin umgezogen und wohne jetzt in {stadt}.",
            "Bitte ändert meine Anschrift in der Mitgliederverwaltung.",
            "Gehöre ich damit jetzt zu einem anderen Kreisverband?",
            "Post an die alte Adresse kommt leider nicht mehr an.",
        ],
    },
    Topic {
        subject: "Mahnung Mitgliedsbeitrag – Rückfrage",
        sentences: &[
            "Ich habe eine Mahnung bekommen, obwohl ich den Beitrag bezahlt habe.",
            "Die Zahlung ging am {monat} über {betrag} raus.",
            "Bitte prüft das und meldet euch bei mir.",
            "Ist mein Stimmrecht auf dem Parteitag jetzt gefährdet?",
        ],
    },
    Topic {
        subject: "Spendenquittung {jahr}",
        sentences: &[
            "Für meine Steuererklärung brauche ich eine Zuwendungsbestätigung für {jahr}.",
            "Ich habe im letzten Jahr insgesamt {betrag} gespendet.",
            "Könnt ihr mir die Spendenquittung als PDF schicken?",
        ],
    },
    Topic {
        subject: "Einladung zum Landesparteitag in {stadt}",
        sentences: &[
            "Ich habe keine Einladung zum Landesparteitag bekommen.",
            "Wo findet der Parteitag in {stadt} genau statt?",
            "Gibt es eine Möglichkeit zur Kinderbetreuung vor Ort?",
            "Kann ich mich noch als Versammlungsleitung melden?",
        ],
    },
    Topic {
        subject: "Stammtisch in {stadt}",
        sentences: &[
            "Gibt es in {stadt} einen regelmäßigen Stammtisch?",
            "Ich bin neu in der Partei und möchte gern mitmachen.",
            "Wer ist in {stadt} der richtige Ansprechpartner für Infostände?",
        ],
    },
    Topic {
        subject: "Presseanfrage: Kommunalwahl in {stadt}",
        sentences: &[
            "Für einen Artikel über die Kommunalwahl in {stadt} hätte ich einige Fragen.",
            "Wer tritt bei euch als Spitzenkandidat an?",
            "Bitte schicken Sie mir das Wahlprogramm und ein Pressefoto.",
            "Redaktionsschluss ist am {monat}.",
        ],
    },
    Topic {
        subject: "Mitgliedsantrag – wie geht es weiter?",
        sentences: &[
            "Ich habe vor drei Wochen den Mitgliedsantrag online ausgefüllt.",
            "Bisher habe ich keine Bestätigung bekommen.",
            "Wann bekomme ich meinen Mitgliedsausweis?",
            "Den ersten Mitgliedsbeitrag habe ich schon überwiesen.",
        ],
    },
    Topic {
        subject: "Zugang zum Forum und zur Mailingliste",
        sentences: &[
            "Ich komme nicht mehr in das Forum, mein Passwort wird abgelehnt.",
            "Außerdem bekomme ich die Mails der Mailingliste nicht mehr.",
            "Könnt ihr meinen Zugang zurücksetzen?",
        ],
    },
    Topic {
        subject: "Unterstützungsunterschriften für die Wahl",
        sentences: &[
            "Wir sammeln in {stadt} Unterstützungsunterschriften für die Landesliste.",
            "Wie viele Formblätter brauchen wir noch?",
            "Die Formulare müssen bis zum {monat} beim Wahlamt sein.",
        ],
    },
];

const FILLER: &[&str] = &[
    "Vielen Dank für eure Hilfe!",
    "Ich freue mich auf eine baldige Antwort.",
    "Bei Rückfragen bin ich per Mail erreichbar.",
    "Meine Mitgliedsnummer habe ich leider gerade nicht zur Hand.",
    "Das ist jetzt schon meine zweite Mail zu dem Thema.",
];

const REPLIES: &[&str] = &[
    "vielen Dank für deine Nachricht.",
    "wir haben das geprüft und in der Mitgliederverwaltung geändert.",
    "der Mitgliedsbeitrag für {jahr} ist bei uns eingegangen.",
    "die Bestätigung schicken wir dir in den nächsten Tagen per Post.",
    "für deine Frage ist der Kreisverband {stadt} zuständig, wir haben sie weitergeleitet.",
    "bitte schick uns noch deine Mitgliedsnummer.",
];

const NOTES: &[&str] = &[
    "Mit dem Schatzmeister abgestimmt, Rückbuchung veranlasst.",
    "Rückruf vereinbart, Mitglied war telefonisch nicht erreichbar.",
    "Doppelte Abbuchung bestätigt, Erstattung über {betrag} angewiesen.",
    "An den Kreisverband {stadt} weitergegeben.",
    "Bitte nicht schließen, bevor der Vorstand entschieden hat.",
];

const MONTHS: &[&str] = &[
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

const CITIES: &[&str] = &[
    "Köln",
    "München",
    "Stuttgart",
    "Hannover",
    "Wiesbaden",
    "Berlin",
    "Dresden",
    "Mainz",
    "Kiel",
    "Hamburg",
    "Erfurt",
    "Potsdam",
    "Magdeburg",
    "Schwerin",
    "Saarbrücken",
    "Bremen",
    "Düsseldorf",
    "Nürnberg",
    "Karlsruhe",
    "Leipzig",
    "Bielefeld",
    "Augsburg",
    "Freiburg",
    "Kassel",
    "Rostock",
    "Lübeck",
    "Göttingen",
    "Würzburg",
];

const FIRST_NAMES: &[&str] = &[
    "Anna",
    "Jonas",
    "Lena",
    "Lukas",
    "Marie",
    "Felix",
    "Sophie",
    "Paul",
    "Laura",
    "Tim",
    "Julia",
    "Niklas",
    "Hannah",
    "Jan",
    "Katharina",
    "Max",
    "Sarah",
    "Florian",
    "Jürgen",
    "Sabine",
    "Thomas",
    "Petra",
    "Michael",
    "Ursula",
    "Björn",
    "Gisela",
    "Mehmet",
    "Ayşe",
    "Olga",
    "Dmitri",
];

const LAST_NAMES: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Yılmaz",
    "Kowalski",
    "Nowak",
];
