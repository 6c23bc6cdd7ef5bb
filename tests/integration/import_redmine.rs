//! Moving in from a real Redmine 5 (Debian's redmine, started by
//! tests/peers/redmine-up.sh; found through LOGBUCH_TEST_REDMINE_DIR).
//! Each test makes two projects and a requester of its own through the REST
//! API — German text, files, public and private notes, status changes, the
//! Landesverband custom field — imports them (one project split by the
//! field into two tenants), runs again (nothing added), changes an issue
//! (updated), and answers by mail with Redmine's subject tag (threaded).

use crate::intake::{drain, mail};
use logbuch_core::import::{ImportMap, ImportOptions, ImportReport};
use logbuch_tests::{Backend, Person, TestApp, both, logbuch_command, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The running Redmine of tests/peers/redmine-up.sh (an administrator's key).
pub struct Redmine {
    pub url: String,
    pub key: String,
    http: reqwest::Client,
}

impl Redmine {
    /// Fails (never skips) when Redmine is not there.
    pub fn find() -> Redmine {
        let read = |f: &str| logbuch_tests::peer_file("LOGBUCH_TEST_REDMINE_DIR", "redmine", f);
        Redmine { url: read("url"), key: read("key"), http: reqwest::Client::new() }
    }

    /// A call, as `user` (login) when given; the answer's JSON (Null for 204).
    async fn call(&self, method: reqwest::Method, path: &str, user: Option<&str>, body: Value) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.url)).header("X-Redmine-API-Key", &self.key);
        if let Some(u) = user {
            req = req.header("X-Redmine-Switch-User", u);
        }
        if !body.is_null() {
            req = req.json(&body);
        }
        logbuch_tests::peer_json(req, "Redmine", path).await
    }

    /// Uploads a file (as `user`) and returns the token for an issue's `uploads`.
    async fn upload(&self, user: &str, name: &str, ty: &str, bytes: &[u8]) -> Value {
        let res = self
            .http
            .post(format!("{}/uploads.json", self.url))
            .query(&[("filename", name)])
            .header("X-Redmine-API-Key", &self.key)
            .header("X-Redmine-Switch-User", user)
            .header("Content-Type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let v: Value = res.json().await.unwrap();
        json!({"token": v["upload"]["token"], "filename": name, "content_type": ty})
    }

    async fn issue(&self, user: &str, fields: Value) -> i64 {
        let v = self.call(reqwest::Method::POST, "/issues.json", Some(user), json!({"issue": fields})).await;
        v["issue"]["id"].as_i64().unwrap()
    }

    async fn update(&self, id: i64, user: Option<&str>, fields: Value) {
        self.call(reqwest::Method::PUT, &format!("/issues/{id}.json"), user, json!({"issue": fields})).await;
    }
}

const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n\x00\xff\xfe binary \x80\x81\n%%EOF\n";

async fn detail(t: &TestApp, who: &Person, n: i64) -> Value {
    let (s, d) = t.get(who, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    d
}

fn messages(d: &Value) -> &Vec<Value> {
    d["messages"].as_array().unwrap()
}

async fn import(t: &TestApp, rm: &Redmine, map: &ImportMap) -> ImportReport {
    t.app.import_redmine(&rm.url, &rm.key, map, &ImportOptions::default(), |_| {}).await.unwrap()
}

const ALL: &str = "status=new,open,waiting,resolved";

async fn imports_redmine_issues_with_journals_files_and_watchers(backend: Backend) {
    let rm = Redmine::find();
    let t = spawn_app(backend).await;
    let erika = t.person("erika@piratenpartei-nrw.example", &[("helper", Some("nw"), None)]).await;
    let bayern = t.person("bernd@piratenpartei-bayern.example", &[("helper", Some("by"), None)]).await;
    let run = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let (members, press) = (format!("mitglieder-{run}"), format!("presse-{run}"));
    let members_name = format!("Mitglieder NRW {run}");
    for (ident, name) in [(&members, &members_name), (&press, &format!("Presse NRW {run}"))] {
        let p = json!({"project": {"name": name, "identifier": ident, "is_public": false}});
        rm.call(reqwest::Method::POST, "/projects.json", None, p).await;
    }
    // The requester, a Redmine account (Redmine knows no outside requesters).
    let login = format!("anna{run}");
    let anna_mail = format!("anna.{run}@example.org");
    let u = json!({"user": {"login": login, "firstname": "Anna", "lastname": "Müller", "mail": anna_mail,
                            "generate_password": true, "language": "de"}});
    let anna = rm.call(reqwest::Method::POST, "/users.json", None, u).await["user"]["id"].as_i64().unwrap();
    for p in [&members, &press] {
        let m = json!({"membership": {"user_id": anna, "role_ids": [5]}});
        rm.call(reqwest::Method::POST, &format!("/projects/{p}/memberships.json"), None, m).await;
    }
    let cf = rm.call(reqwest::Method::GET, "/custom_fields.json", None, Value::Null).await["custom_fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Landesverband")
        .unwrap()["id"]
        .clone();

    // 1. Redmine, filled through its API.
    let pdf = rm.upload(&login, "Meldebescheinigung Müller.pdf", "application/pdf", PDF).await;
    let address = rm
        .issue(
            &login,
            json!({"project_id": members, "tracker_id": 3, "subject": "Adressänderung Müller – größere Straße",
                   "description": "Sehr geehrte Damen und Herren,\nich bin in die Übergasse 3 umgezogen. Grüße",
                   "custom_fields": [{"id": cf, "value": "Nordrhein-Westfalen"}], "uploads": [pdf]}),
        )
        .await;
    let txt = rm.upload("admin", "Bestätigung.txt", "text/plain", "Bestätigt ✓\n".as_bytes()).await;
    rm.update(
        address,
        None,
        json!({"notes": "Vielen Dank, Frau Müller. Die Adresse ist geändert.", "status_id": 2, "uploads": [txt]}),
    )
    .await;
    rm.update(address, None, json!({"notes": "Interne Notiz: Beitragshöhe prüfen.", "private_notes": true})).await;
    rm.update(address, None, json!({"status_id": 5})).await;
    let munich = rm
        .issue(
            &login,
            json!({"project_id": members, "tracker_id": 3, "subject": "Umzug nach München",
                   "description": "Bitte an den Landesverband Bayern weitergeben.",
                   "custom_fields": [{"id": cf, "value": "Bayern"}]}),
        )
        .await;
    let interview = rm
        .issue(
            &login,
            json!({"project_id": press, "tracker_id": 3, "subject": "Interview-Anfrage zur Ärztekammer",
                   "description": "Hätten Sie nächste Woche Zeit für ein Gespräch?"}),
        )
        .await;
    rm.update(interview, None, json!({"notes": "Gern, am Dienstag um 10 Uhr.", "status_id": 4})).await;

    let map_file = format!(
        "[[queue]]\nsource = \"{members}\"\nfield = \"Landesverband\"\nvalue = \"Nordrhein-Westfalen\"\n\
         tenant = \"nw\"\nqueue = \"mitgliederverwaltung\"\n\
         [[queue]]\nsource = \"{members}\"\nfield = \"Landesverband\"\nvalue = \"Bayern\"\ntenant = \"by\"\n\
         [[queue]]\nsource = \"{press}\"\ntenant = \"nw\"\nqueue = \"presse\"\n\
         [users]\n\"admin@example.net\" = \"erika@piratenpartei-nrw.example\"\n"
    );
    let map = ImportMap::parse(&map_file).unwrap();

    // 2. The import.
    let first = import(&t, &rm, &map).await;
    let p = &first.progress;
    assert_eq!((p.total, p.created, p.skipped), (3, 3, 0), "{}", first.summary());

    // 3. What came over.
    let found = |q: String| {
        let (t, erika) = (&t, &erika);
        async move { t.list_numbers(erika, &format!("?{ALL}&q={q}")).await }
    };
    let hits = found(format!("Redmine%20{address}")).await;
    assert_eq!(hits.len(), 1, "the old number is searchable");
    let n = hits[0];
    let d = detail(&t, &erika, n).await;
    assert_eq!((d["tenant"].as_str(), d["queue"].as_str()), (Some("nw"), Some("mitgliederverwaltung")));
    assert_eq!(d["subject"], "Adressänderung Müller – größere Straße");
    assert_eq!(
        (d["requester"].as_str(), d["requester_name"].as_str()),
        (Some(anna_mail.as_str()), Some("Anna Müller"))
    );
    assert_eq!(d["status"], "resolved", "Erledigt");
    let m = messages(&d);
    assert_eq!(m.len(), 3, "{m:?}");
    assert_eq!((m[0]["kind"].as_str(), m[0]["from"].as_str()), (Some("inbound"), Some(anna_mail.as_str())));
    assert_eq!(m[0]["body_text"], "Sehr geehrte Damen und Herren,\nich bin in die Übergasse 3 umgezogen. Grüße");
    assert_eq!(
        (m[1]["kind"].as_str(), m[1]["author"]["email"].as_str()),
        (Some("outbound"), Some("erika@piratenpartei-nrw.example"))
    );
    assert_eq!(m[2]["kind"], "note", "a private note stays inside");
    for (msg, name, bytes) in
        [(&m[0], "Meldebescheinigung Müller.pdf", PDF), (&m[1], "Bestätigung.txt", "Bestätigt ✓\n".as_bytes())]
    {
        assert_eq!(msg["attachments"][0]["filename"], name);
        let id = msg["attachments"][0]["id"].as_i64().unwrap();
        let res = t
            .http
            .get(format!("{}/api/v1/tickets/{n}/attachments/{id}", t.url))
            .bearer_auth(&erika.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.bytes().await.unwrap().as_ref(), bytes, "file bytes as in Redmine");
    }
    let history: Vec<String> =
        d["history"].as_array().unwrap().iter().map(|h| format!("{}: {}", h["field"], h["to"])).collect();
    assert!(
        history.iter().any(|h| h.contains("imported") && h.contains("Status: In Bearbeitung → Erledigt")),
        "{history:?}"
    );
    assert!(
        d["watchers"].as_array().unwrap().iter().any(|w| w["email"] == "erika@piratenpartei-nrw.example"),
        "the admin watched"
    );
    let by = t.list_numbers(&bayern, &format!("?{ALL}")).await;
    assert_eq!(by.len(), 1, "the Landesverband field sent one issue to Bavaria");
    assert_eq!(detail(&t, &bayern, by[0]).await["subject"], "Umzug nach München");
    let talk = found(format!("Redmine%20{interview}")).await[0];
    let d = detail(&t, &erika, talk).await;
    assert_eq!((d["queue"].as_str(), d["status"].as_str()), (Some("presse"), Some("waiting")), "Feedback");
    assert_eq!(messages(&d).len(), 2);
    assert_eq!(t.list_numbers(&erika, &format!("?{ALL}")).await.len(), 2, "NRW sees its two, not Bavaria's");
    let _ = munich;

    // 4. Again, through the binary: nothing new.
    let path = t.app.settings.data_dir.join("redmine-map.toml");
    std::fs::write(&path, &map_file).unwrap();
    let out = logbuch_command(
        &t.app.settings,
        &["admin", "import", "redmine", "--url", &rm.url, "--map", &path.display().to_string()],
        &[("LOGBUCH_IMPORT_KEY", &rm.key)],
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("3 Tickets gelesen, 0 neu, 0 aktualisiert, 3 unverändert"), "{stdout}");

    // 5. Changed in Redmine: the next run takes the new note, file and status.
    let more = rm.upload(&login, "Fragen.pdf", "application/pdf", PDF).await;
    rm.update(interview, Some(&login), json!({"notes": "Können wir auf Mittwoch verschieben?", "uploads": [more]}))
        .await;
    rm.update(interview, None, json!({"status_id": 2})).await;
    let third = import(&t, &rm, &map).await;
    assert_eq!((third.progress.created, third.progress.updated), (0, 1), "{}", third.summary());
    let d = detail(&t, &erika, talk).await;
    assert_eq!(d["status"], "open");
    let m = messages(&d);
    assert_eq!(m.len(), 3);
    assert_eq!((m[2]["kind"].as_str(), m[2]["from"].as_str()), (Some("inbound"), Some(anna_mail.as_str())));
    assert_eq!(m[2]["body_text"], "Können wir auf Mittwoch verschieben?");
    assert_eq!(m[2]["attachments"][0]["filename"], "Fragen.pdf");

    // 6. A reply to Redmine's mail ("[Project - Tracker #N] …") threads into the imported ticket.
    let reply = mail(
        &format!("rm-reply-{run}@example.org"),
        &format!("Anna Müller <{anna_mail}>"),
        "redmine@logbuch.test",
        &format!("Re: [{members_name} - Unterstützung #{address}] (Erledigt) Adressänderung Müller"),
        "Danke, und meine neue Telefonnummer ist 0211 123456.",
    );
    t.app.ingest_raw("test", &reply).await.unwrap();
    drain(&t).await;
    let d = detail(&t, &erika, n).await;
    assert_eq!(messages(&d).len(), 4, "threaded, no new ticket");
    assert_eq!(d["status"], "open", "a requester's mail reopens it");
    assert_eq!(t.list_numbers(&erika, &format!("?{ALL}")).await.len(), 2);
}

both!(imports_redmine_issues_with_journals_files_and_watchers);
