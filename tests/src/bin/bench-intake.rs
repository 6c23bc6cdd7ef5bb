//! Dunning-peak benchmark (issue: mail intake). 20,000 mails — half bounces,
//! half member mails — wait in the IMAP mailboxes of four tenants; a release
//! `logbuch serve` (HTTP + workers in one process) on PostgreSQL + Redis
//! takes them all. Prints mails/s from start to the last mail committed, the
//! server's peak resident memory, and the latency of an LV helper's ticket
//! list requested over HTTP all the while.
//!
//! Run it with `tests/bench-intake.sh` (starts Redis and Dovecot, builds release).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use logbuch_tests::bench::rss_kb;

use logbuch_tests::mailpeer::{IMAP_PORT, LMTP_PORT, PASSWORD, imap_reset};
use sea_orm::{ConnectionTrait, Statement};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const MAILBOXES: [(&str, &str); 4] = [
    ("benchbund", "mitglieder@piratenpartei.de"),
    ("benchby", "mitglieder-by@piratenpartei.de"),
    ("benchnw", "mitglieder@piratenpartei-nrw.de"),
    ("benchhe", "mitglieder-he@piratenpartei.de"),
];

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn member_mail(i: usize, to: &str) -> String {
    format!(
        "From: Mitglied {i} <mitglied{i}@example.org>\r\nTo: {to}\r\nSubject: =?UTF-8?Q?R=C3=BCckfrage_zur_Beitragsrechnung_{i}?=\r\n\
Message-ID: <member{i}@example.org>\r\nDate: Sun, 22 Nov 2026 09:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Guten Tag,\r\nich habe eine Frage zu meiner Beitragsrechnung Nr. {i}. Bitte um Rückmeldung.\r\nViele Grüße\r\n"
    )
}

fn bounce_mail(i: usize, to: &str) -> String {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx{m}.example.net>\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
Message-ID: <bounce{i}@mx.example.net>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b{i}\"\r\n\r\n--b{i}\r\nContent-Type: text/plain\r\n\r\n\
This is the mail system at host mx.example.net. Your message could not be delivered.\r\n\r\n--b{i}\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; ehemalig{i}@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n--b{i}\r\nContent-Type: text/rfc822-headers\r\n\r\n\
From: {to}\r\nTo: ehemalig{i}@example.org\r\nSubject: Mahnung\r\nMessage-ID: <mahnung{i}@piratenpartei.de>\r\n\r\n--b{i}--\r\n",
        m = i % 7
    )
}

/// The one value a query returns.
async fn scalar<T: sea_orm::TryGetable>(db: &sea_orm::DatabaseConnection, sql: &str) -> T {
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await.unwrap().unwrap();
    row.try_get_by_index(0).unwrap()
}

/// One LMTP session, many transactions.
async fn deliver_all(user: &str, mails: Vec<String>) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", LMTP_PORT)).await.unwrap();
    let (r, mut w) = tcp.into_split();
    let mut r = BufReader::new(r);
    let mut line = String::new();
    async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, line: &mut String, code: &str) {
        loop {
            line.clear();
            r.read_line(line).await.unwrap();
            assert!(line.starts_with(code), "LMTP {code}: {line}");
            if line.as_bytes().get(3) == Some(&b' ') {
                return;
            }
        }
    }
    reply(&mut r, &mut line, "220").await;
    w.write_all(b"LHLO bench\r\n").await.unwrap();
    reply(&mut r, &mut line, "250").await;
    for m in mails {
        w.write_all(format!("MAIL FROM:<bench@example.org>\r\nRCPT TO:<{user}>\r\nDATA\r\n").as_bytes()).await.unwrap();
        reply(&mut r, &mut line, "250").await;
        reply(&mut r, &mut line, "250").await;
        reply(&mut r, &mut line, "354").await;
        w.write_all(m.as_bytes()).await.unwrap();
        w.write_all(b".\r\n").await.unwrap();
        reply(&mut r, &mut line, "250").await;
    }
    w.write_all(b"QUIT\r\n").await.unwrap();
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let per_box: usize = env("BENCH_MAILS", "20000").parse::<usize>().unwrap() / MAILBOXES.len();
    let total = per_box * MAILBOXES.len();
    let pg = env("LOGBUCH_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres");
    let redis = env("LOGBUCH_TEST_REDIS_URL", "redis://127.0.0.1:6380");
    let bin = env("LOGBUCH_BIN", concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/logbuch"));
    let port = env("BENCH_PORT", "18080");

    // A fresh database.
    let name = format!("lb_bench_{}", chrono::Utc::now().timestamp());
    let admin = sea_orm::Database::connect(&pg).await.expect("PostgreSQL");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let db_url = format!("{}/{name}", pg.rsplit_once('/').unwrap().0);
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut fed = logbuch_config::EMBEDDED_FEDERATION.to_owned();
    for (user, _) in MAILBOXES {
        fed.push_str(&format!(
            "\n[[mailbox]]\nname = \"{user}\"\nhost = \"127.0.0.1\"\nport = {IMAP_PORT}\nsecurity = \"none\"\nuser = \"{user}\"\npassword = \"{PASSWORD}\"\n"
        ));
    }
    std::fs::write(dir.join("federation.toml"), fed).unwrap();
    let mut settings = logbuch_config::Settings {
        data_dir: dir.clone(),
        federation_file: Some(dir.join("federation.toml")),
        ..Default::default()
    };
    settings.database.url = Some(db_url.clone().into());
    let app = logbuch_core::Logbuch::connect(settings).await.unwrap();
    app.prepare().await.unwrap();
    logbuch_core::admin::create_user(&app, "helferin@by.example", "Helferin BY").await.unwrap();
    logbuch_core::admin::grant_role(&app, "helferin@by.example", "helper".parse().unwrap(), Some("by"), None)
        .await
        .unwrap();
    let token = logbuch_core::admin::create_token(&app, "helferin@by.example", "bench").await.unwrap();

    // The peak, waiting in IMAP.
    println!("Fülle {} IMAP-Postfächer mit {total} Mails (je zur Hälfte Rückläufer) …", MAILBOXES.len());
    let t0 = Instant::now();
    let mut fills = Vec::new();
    for (b, (user, address)) in MAILBOXES.iter().enumerate() {
        imap_reset(user).await;
        let mails: Vec<String> = (0..per_box)
            .map(|k| {
                let i = b * per_box + k;
                if k % 2 == 0 { bounce_mail(i, address) } else { member_mail(i, address) }
            })
            .collect();
        fills.push(tokio::spawn(deliver_all(user, mails)));
    }
    for f in fills {
        f.await.unwrap();
    }
    println!("  zugestellt in {:.1} s", t0.elapsed().as_secs_f64());

    // Go.
    let start = Instant::now();
    let start_wall = chrono::Utc::now();
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let mut server = std::process::Command::new(&bin)
        .arg("serve")
        .env("LOGBUCH__DATA_DIR", &dir)
        .env("LOGBUCH__DATABASE__URL", &db_url)
        .env("LOGBUCH__REDIS__URL", &redis)
        .env("LOGBUCH__REDIS__PREFIX", format!("{name}:"))
        .env("LOGBUCH__FEDERATION_FILE", dir.join("federation.toml"))
        .env("LOGBUCH__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("{bin}: {e} (build with cargo build --release)"));
    let pid = server.id();

    // LV helpers keep looking at their ticket lists while the peak runs:
    // CLIENTS people, each reloading PER_SECOND times a second.
    const CLIENTS: usize = 8;
    const PER_SECOND: u64 = 10;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let stop = stop.clone();
        let token = token.clone();
        let url = format!("http://127.0.0.1:{port}/api/v1/tickets?tenant=by");
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut tick = tokio::time::interval(Duration::from_millis(1000 / PER_SECOND));
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                tick.tick().await;
                let t = Instant::now();
                match http.get(&url).bearer_auth(&token).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    // Before the server listens, refusals are expected, not errors.
                    Ok(_) | Err(_) if lat.is_empty() => {}
                    Ok(_) | Err(_) => errors += 1,
                }
            }
            // The first answer comes while the server is still starting
            // (its first connections, ~115 ms each): the start, not the
            // list during the peak. Eight of them were p99 of a 9-second run.
            let lat = lat.into_iter().skip(1).collect::<Vec<f64>>();
            (lat, errors)
        }));
    }

    let mut peak_rss = 0;
    let mut last_print = Instant::now();
    let db = app.store.db.clone();
    let count = |sql: &'static str| scalar::<i64>(&db, sql);
    let mut samples: Vec<(f64, i64, i64)> = Vec::new();
    loop {
        peak_rss = peak_rss.max(rss_kb(pid));
        // Through the state index: `state <> 'pending'` read the whole table
        // (16 ms of PostgreSQL's time every 50 ms, a sixth of the machine).
        // Even so a count costs ~12 ms at the end: polled every 500 ms, the
        // times themselves come from the mails' `processed_at` below.
        let finished = count("SELECT COUNT(*) FROM raw_mails WHERE state IN ('done', 'quarantined')").await;
        if finished as usize >= total {
            break;
        }
        if last_print.elapsed() > Duration::from_secs(2) {
            last_print = Instant::now();
            let stored = count("SELECT COUNT(*) FROM raw_mails").await;
            samples.push((start.elapsed().as_secs_f64(), stored, finished));
            println!(
                "  {:5.1} s: {stored:>6} gespeichert, {finished:>6} verarbeitet, RSS {} MB",
                start.elapsed().as_secs_f64(),
                rss_kb(pid) / 1024
            );
        }
        if start.elapsed() > Duration::from_secs(900) {
            panic!("not done after 15 minutes; see {}", dir.join("server.log").display());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // From the start to the last mail's commit, as the intake stamped it
    // (`processed_at` is set in the transaction that commits the mail).
    let stamp = async |sql: &'static str| {
        let at = scalar::<chrono::DateTime<chrono::Utc>>(&db, sql).await;
        (at - start_wall).to_std().unwrap_or_default()
    };
    let elapsed = stamp("SELECT MAX(processed_at) FROM raw_mails").await;
    let first_mail = stamp("SELECT MIN(processed_at) FROM raw_mails").await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut lat = Vec::new();
    let mut errors = 0;
    for c in clients {
        let (l, e) = c.await.unwrap();
        lat.extend(l);
        errors += e;
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let _ = server.kill();
    let _ = server.wait();

    let tickets = count("SELECT COUNT(*) FROM tickets").await;
    let bounces = count("SELECT COUNT(*) FROM bounces").await;
    let quarantined = count("SELECT COUNT(*) FROM raw_mails WHERE state = 'quarantined'").await;
    let rate = total as f64 / elapsed.as_secs_f64();
    println!();
    println!(
        "Mahnlauf-Spitze: {total} Mails in {} IMAP-Postfächern (PostgreSQL + Redis, `logbuch serve`, Release-Build)",
        MAILBOXES.len()
    );
    println!(
        "  Start bis letzte Mail verarbeitet: {:.1} s  →  {rate:.0} Mails/s  (Ziel ≥ 2000)",
        elapsed.as_secs_f64()
    );
    println!("  erste Mail fertig nach:            {:.2} s", first_mail.as_secs_f64());
    println!(
        "  Tickets: {tickets} (Mitgliedermails + Sammeltickets), Rückläufer erfasst: {bounces}, Quarantäne: {quarantined}"
    );
    println!("  Speicher (RSS) Spitze:             {} MB  (Ziel < 300 MB)", peak_rss / 1024);
    println!(
        "  Ticketliste von {CLIENTS} LV-Helferinnen (je {PER_SECOND}/s) währenddessen, ohne die erste beim Serverstart: {} Anfragen, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms, Fehler {errors}  (Ziel p99 < 50 ms)",
        lat.len(),
        pct(&lat, 0.5),
        pct(&lat, 0.95),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  Verhältnis zur Decke dieser Maschine (PostgreSQL, 4 Inserts/Transaktion, dauerhaft, 4–16 Verbindungen: ~4000–5000/s): {:.0} %",
        rate / 4500.0 * 100.0
    );
    println!();
    println!("  Verlauf (█ verarbeitet, ░ gespeichert, je {} Mails):", total / 50);
    samples.push((elapsed.as_secs_f64(), total as i64, total as i64));
    for (t, stored, finished) in &samples {
        let done = (*finished as usize * 50 / total.max(1)).min(50);
        let kept = (*stored as usize * 50 / total.max(1)).min(50).max(done);
        println!("  {t:5.1} s │{}{}{}│ {finished}", "█".repeat(done), "░".repeat(kept - done), " ".repeat(50 - kept));
    }
    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
}
