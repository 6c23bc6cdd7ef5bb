//! Moving in from a real Request Tracker 5 (Debian's request-tracker5,
//! started by tests/peers/rt-up.sh; found through LOGBUCH_TEST_RT_DIR).
//! Each test fills two queues of its own through REST2 — German text,
//! files, comments, status changes — imports them into two NRW queues, runs
//! again (nothing added), changes a ticket at RT (updated), and answers an
//! imported ticket by mail with RT's subject tag (threaded into it).

use crate::intake::{drain, mail};
use base64::Engine;
use logbuch_core::import::{ImportMap, ImportOptions, ImportReport};
use logbuch_tests::{Backend, Person, TestApp, both, logbuch_command, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The running RT of tests/peers/rt-up.sh.
pub struct Rt {
    pub url: String,
    pub token: String,
    http: reqwest::Client,
}

impl Rt {
    /// Fails (never skips) when RT is not there.
    pub fn find() -> Rt {
        let read = |f: &str| logbuch_tests::peer_file("LOGBUCH_TEST_RT_DIR", "rt", f);
        Rt { url: read("url"), token: read("token"), http: reqwest::Client::new() }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}/REST/2.0{path}", self.url))
            .header("Authorization", format!("token {}", self.token));
        if let Some(b) = body {
            req = req.json(&b);
        }
        logbuch_tests::peer_json(req, "RT", path).await
    }

    pub async fn create_queue(&self, name: &str) {
        self.call(reqwest::Method::POST, "/queue", Some(json!({"Name": name}))).await;
    }

    /// A ticket; `files` as (name, MIME type, bytes). Returns its number.
    pub async fn create_ticket(&self, fields: Value, files: &[(&str, &str, &[u8])]) -> i64 {
        let mut body = fields;
        body["ContentType"] = json!("text/plain");
        body["Attachments"] = attachments(files);
        let v = self.call(reqwest::Method::POST, "/ticket", Some(body)).await;
        v["id"].as_str().unwrap().parse().unwrap()
    }

    pub async fn correspond(&self, id: i64, content: &str, files: &[(&str, &str, &[u8])]) {
        let body = json!({"Content": content, "ContentType": "text/plain", "Attachments": attachments(files)});
        self.call(reqwest::Method::POST, &format!("/ticket/{id}/correspond"), Some(body)).await;
    }

    pub async fn comment(&self, id: i64, content: &str) {
        let body = json!({"Content": content, "ContentType": "text/plain"});
        self.call(reqwest::Method::POST, &format!("/ticket/{id}/comment"), Some(body)).await;
    }

    pub async fn set(&self, id: i64, fields: Value) {
        self.call(reqwest::Method::PUT, &format!("/ticket/{id}"), Some(fields)).await;
    }
}

/// REST2's JSON files; the name RFC 2047-encoded (a plain UTF-8 name arrives as U+FFFD).
fn attachments(files: &[(&str, &str, &[u8])]) -> Value {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    Value::Array(
        files
            .iter()
            .map(|(name, ty, bytes)| {
                json!({"FileName": format!("=?UTF-8?B?{}?=", b64(name.as_bytes())), "FileType": ty, "FileContent": b64(bytes)})
            })
            .collect(),
    )
}

const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n\x00\xff\xfe binary \x80\x81\n%%EOF\n";
const RTNAME: &str = "logbuch.test";

async fn detail(t: &TestApp, who: &Person, n: i64) -> Value {
    let (s, d) = t.get(who, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    d
}

fn messages(d: &Value) -> &Vec<Value> {
    d["messages"].as_array().unwrap()
}

async fn import(t: &TestApp, rt: &Rt, map: &ImportMap, limit: Option<u64>) -> ImportReport {
    t.app.import_rt(&rt.url, &rt.token, map, &ImportOptions { limit }, |_| {}).await.unwrap()
}

async fn imports_rt_tickets_with_messages_files_and_history(backend: Backend) {
    let rt = Rt::find();
    let t = spawn_app(backend).await;
    let erika = t.person("erika@piratenpartei-nrw.example", &[("helper", Some("nw"), None)]).await;
    // In Logbuch under the address RT knows: taken without a [users] line.
    t.person("vorstand@piratenpartei-nrw.example", &[("helper", Some("nw"), None)]).await;
    let run = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let (members, press) = (format!("Mitglieder NRW {run}"), format!("Presse NRW {run}"));
    rt.create_queue(&members).await;
    rt.create_queue(&press).await;

    // 1. RT, filled through its API.
    let address = rt
        .create_ticket(
            json!({"Queue": members, "Requestor": "anna.mueller@example.org", "Cc": "bernd@example.org",
                   "AdminCc": "vorstand@piratenpartei-nrw.example",
                   "Subject": format!("Adressänderung Müller – größere Straße {run}"),
                   "Content": "Sehr geehrte Damen und Herren,\nich bin in die Übergasse 3 umgezogen. Grüße"}),
            &[("Meldebescheinigung Müller.pdf", "application/pdf", PDF)],
        )
        .await;
    rt.correspond(
        address,
        "Vielen Dank, Frau Müller. Die Adresse ist geändert.",
        &[("Bestätigung.txt", "text/plain", "Bestätigt ✓\n".as_bytes())],
    )
    .await;
    rt.comment(address, "Interne Notiz: Beitragshöhe prüfen.").await;
    rt.set(address, json!({"Status": "resolved", "Owner": "root"})).await;
    let interview = rt
        .create_ticket(
            json!({"Queue": press, "Requestor": "redaktion@zeitung.example",
                   "Subject": format!("Interview-Anfrage zur Ärztekammer {run}"),
                   "Content": "Hätten Sie nächste Woche Zeit für ein Gespräch?"}),
            &[],
        )
        .await;
    rt.correspond(interview, "Gern, am Dienstag um 10 Uhr.", &[]).await;
    rt.set(interview, json!({"Status": "stalled"})).await;
    let plain = rt
        .create_ticket(
            json!({"Queue": press, "Requestor": "leser@example.org", "Subject": format!("Leserbrief {run}"),
                   "Content": "Ein Leserbrief über Straßenbahnen."}),
            &[],
        )
        .await;
    let rejected = rt
        .create_ticket(
            json!({"Queue": members, "Requestor": "spam@example.org", "Subject": format!("Werbung {run}"),
                   "Content": "Kaufen Sie jetzt!"}),
            &[],
        )
        .await;
    rt.set(rejected, json!({"Status": "rejected"})).await;

    let map_file = map_text(&members, &press);
    let map = ImportMap::parse(&map_file).unwrap();

    // 2. An import that stops after two tickets, then one that continues.
    // RT keeps whole seconds: an item written in the same second as the
    // one before has the same time. Taken over, every time lies before the import.
    let before_import = chrono::Utc::now();
    let first = import(&t, &rt, &map, Some(2)).await;
    assert!(first.interrupted, "{}", first.summary());
    assert_eq!((first.progress.total, first.progress.created), (4, 2), "{}", first.summary());
    let second = import(&t, &rt, &map, None).await;
    let p = &second.progress;
    assert_eq!((p.created, p.updated, p.skipped), (1, 0, 1), "{}", second.summary());
    assert!(
        second.skipped[0].0 == rejected.to_string() && second.skipped[0].1.contains("rejected"),
        "{:?}",
        second.skipped
    );

    // 3. What came over.
    let mine = t.list_numbers(&erika, "?status=new,open,waiting,resolved").await;
    assert_eq!(mine.len(), 3, "{mine:?}");
    let found = |q: &str| {
        let q = q.to_owned();
        let (t, erika) = (&t, &erika);
        async move { t.list_numbers(erika, &format!("?status=new,open,waiting,resolved&q={q}")).await }
    };
    let hits = found(&format!("{RTNAME}%20{address}")).await;
    assert_eq!(hits.len(), 1, "the old number is searchable");
    let n = hits[0];
    let d = detail(&t, &erika, n).await;
    assert_eq!(d["tenant"], "nw");
    assert_eq!(d["queue"], "mitgliederverwaltung");
    assert_eq!(d["subject"], format!("Adressänderung Müller – größere Straße {run}"));
    assert_eq!(d["requester"], "anna.mueller@example.org");
    assert_eq!(d["status"], "resolved");
    assert_eq!(d["owner"]["email"], "erika@piratenpartei-nrw.example");
    assert_eq!(d["watchers"].as_array().unwrap().len(), 1, "AdminCc with an account; the Cc has none");
    assert_eq!(d["watchers"][0]["email"], "vorstand@piratenpartei-nrw.example");
    let m = messages(&d);
    assert_eq!(m.len(), 3, "{m:?}");
    assert_eq!((m[0]["kind"].as_str(), m[0]["from"].as_str()), (Some("inbound"), Some("anna.mueller@example.org")));
    assert!(m[0]["body_text"].as_str().unwrap().contains("Übergasse 3 umgezogen"));
    assert_eq!(m[1]["kind"], "outbound");
    assert_eq!(m[1]["author"]["email"], "erika@piratenpartei-nrw.example");
    assert_eq!(m[2]["kind"], "note");
    assert_eq!(m[2]["body_text"], "Interne Notiz: Beitragshöhe prüfen.");
    let at = |msg: &Value| msg["created_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    assert!(at(&m[0]) <= at(&m[2]) && at(&m[2]) < before_import, "original times: {m:?}");
    assert!(d["created_at"].as_str().unwrap() <= m[0]["created_at"].as_str().unwrap());
    let file = |msg: &Value| (msg["attachments"][0]["filename"].clone(), msg["attachments"][0]["id"].as_i64().unwrap());
    let (name, pdf) = file(&m[0]);
    assert_eq!(name, "Meldebescheinigung Müller.pdf");
    let (name, txt) = file(&m[1]);
    assert_eq!(name, "Bestätigung.txt");
    for (id, bytes) in [(pdf, PDF), (txt, "Bestätigt ✓\n".as_bytes())] {
        let res = t
            .http
            .get(format!("{}/api/v1/tickets/{n}/attachments/{id}", t.url))
            .bearer_auth(&erika.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.bytes().await.unwrap().as_ref(), bytes, "file bytes as in RT");
    }
    let history: Vec<(String, String)> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["field"].as_str().unwrap().to_owned(), h["to"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert!(history.contains(&("imported".into(), "Status: open → resolved".into())), "{history:?}");
    assert!(history.iter().any(|(f, v)| f == "import" && v.contains(&format!("{RTNAME} #{address}"))), "{history:?}");
    let (s, presse) = t.get(&erika, "/api/v1/tickets?tenant=nw&queue=presse&status=new,open,waiting,resolved").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(presse["tickets"].as_array().unwrap().len(), 2, "{presse}");
    let talk = found(&format!("{RTNAME}%20{interview}")).await[0];
    let d = detail(&t, &erika, talk).await;
    assert_eq!(d["status"], "waiting", "stalled");
    assert_eq!(messages(&d).len(), 2);
    assert_eq!(found(&format!("{RTNAME}%20{plain}")).await.len(), 1);

    // 4. Again: nothing new (the binary this time, with its German summary).
    let out = logbuch_command(
        &t.app.settings,
        &["admin", "import", "rt", "--url", &rt.url, "--map", &write_map(&t, &map_file)],
        &[("LOGBUCH_IMPORT_TOKEN", &rt.token)],
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("4 Tickets gelesen, 0 neu, 0 aktualisiert, 3 unverändert, 1 übersprungen"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Import: 4 von 4 Tickets (100 %)"), "the progress bar");
    assert_eq!(messages(&detail(&t, &erika, talk).await).len(), 2);
    assert_eq!(t.list_numbers(&erika, "?status=new,open,waiting,resolved").await.len(), 3);

    // 5. Changed at RT: the next run takes the new message, file and status.
    rt.correspond(interview, "Können wir auf Mittwoch verschieben?", &[("Fragen.pdf", "application/pdf", PDF)]).await;
    rt.set(interview, json!({"Status": "open"})).await;
    let third = import(&t, &rt, &map, None).await;
    assert_eq!((third.progress.created, third.progress.updated), (0, 1), "{}", third.summary());
    let d = detail(&t, &erika, talk).await;
    assert_eq!(d["status"], "open");
    let m = messages(&d);
    assert_eq!(m.len(), 3);
    assert_eq!(m[2]["body_text"], "Können wir auf Mittwoch verschieben?");
    assert_eq!(m[2]["attachments"][0]["filename"], "Fragen.pdf");

    // 6. A reply to mail RT sent, with RT's subject tag, threads into the imported ticket.
    let reply = mail(
        &format!("reply-{run}@example.org"),
        "Anna Müller <anna.mueller@example.org>",
        "mitglieder-nrw@logbuch.test",
        &format!("Re: [{RTNAME} #{address}] Adressänderung Müller"),
        "Danke, und meine neue Telefonnummer ist 0211 123456.",
    );
    t.app.ingest_raw("test", &reply).await.unwrap();
    drain(&t).await;
    let d = detail(&t, &erika, n).await;
    assert_eq!(messages(&d).len(), 4, "threaded, no new ticket");
    assert!(messages(&d)[3]["body_text"].as_str().unwrap().contains("Telefonnummer"));
    assert_eq!(d["status"], "open", "a requester's mail reopens it");
    assert_eq!(t.list_numbers(&erika, "?status=new,open,waiting,resolved").await.len(), 3);
}

fn map_text(members: &str, press: &str) -> String {
    format!(
        "rtname = \"{RTNAME}\"\n\
         [[queue]]\nsource = \"{members}\"\ntenant = \"nw\"\nqueue = \"mitgliederverwaltung\"\n\
         [[queue]]\nsource = \"{press}\"\ntenant = \"nw\"\nqueue = \"presse\"\n\
         [users]\n\"root@localhost\" = \"erika@piratenpartei-nrw.example\"\n\
         [status]\nrejected = \"skip\"\n"
    )
}

fn write_map(t: &TestApp, text: &str) -> String {
    let path = t.app.settings.data_dir.join("rt-map.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

both!(imports_rt_tickets_with_messages_files_and_history);
