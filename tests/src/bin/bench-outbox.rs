//! Notification-burst benchmark (issue: outgoing mail): 5,000 notifications
//! queued at once (100 new tickets × 50 coordinators, plus acknowledgements)
//! are handed to SMTP by a release `logbuch worker` on PostgreSQL + Redis.
//! The SMTP server is a minimal discarding one in this process, so the
//! figure is Logbuch's, not a test relay's. Prints mails/s and the worker's
//! peak resident memory.
//!
//! Run it with `tests/bench-outbox.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use logbuch_tests::bench::rss_kb;

use sea_orm::{ConnectionTrait, Statement};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// Accepts every mail and forgets it; counts them.
async fn discard_smtp(listener: tokio::net::TcpListener, count: Arc<AtomicU64>) {
    loop {
        let Ok((sock, _)) = listener.accept().await else { continue };
        let count = count.clone();
        tokio::spawn(async move {
            let (r, mut w) = sock.into_split();
            let mut r = BufReader::new(r);
            let _ = w.write_all(b"220 bench ESMTP\r\n").await;
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let cmd = line.trim_end().to_ascii_uppercase();
                let reply: &[u8] = if cmd.starts_with("EHLO") {
                    b"250-bench\r\n250 8BITMIME\r\n"
                } else if cmd.starts_with("DATA") {
                    let _ = w.write_all(b"354 go\r\n").await;
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == ".\r\n" || line == ".\n" {
                            break;
                        }
                    }
                    count.fetch_add(1, Ordering::Relaxed);
                    b"250 queued\r\n"
                } else if cmd.starts_with("QUIT") {
                    let _ = w.write_all(b"221 bye\r\n").await;
                    return;
                } else {
                    b"250 ok\r\n"
                };
                if w.write_all(reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[tokio::main]
async fn main() {
    let tickets: usize = env("BENCH_TICKETS", "100").parse().unwrap();
    let coordinators: usize = env("BENCH_COORDINATORS", "50").parse().unwrap();
    let pg = env("LOGBUCH_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres");
    let redis = env("LOGBUCH_TEST_REDIS_URL", "redis://127.0.0.1:6380");
    let bin = env("LOGBUCH_BIN", concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/logbuch"));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let smtp_port = listener.local_addr().unwrap().port();
    let delivered = Arc::new(AtomicU64::new(0));
    tokio::spawn(discard_smtp(listener, delivered.clone()));

    let name = format!("lb_bench_outbox_{}", chrono::Utc::now().timestamp());
    let admin = sea_orm::Database::connect(&pg).await.expect("PostgreSQL");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let db_url = format!("{}/{name}", pg.rsplit_once('/').unwrap().0);
    let dir = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut settings = logbuch_config::Settings { data_dir: dir.clone(), ..Default::default() };
    settings.database.url = Some(db_url.clone().into());
    settings.redis.url = Some(redis.clone().into());
    settings.redis.prefix = format!("{name}:");
    let app = logbuch_core::Logbuch::connect(settings).await.unwrap();
    app.prepare().await.unwrap();

    println!("Lege {coordinators} Koordinatorinnen und {tickets} neue Tickets an …");
    for c in 0..coordinators {
        let email = format!("koordination{c}@bund.example");
        logbuch_core::admin::create_user(&app, &email, &email).await.unwrap();
        logbuch_core::admin::grant_role(&app, &email, "helper".parse().unwrap(), Some("bund"), Some("allgemein"))
            .await
            .unwrap();
    }
    for i in 0..tickets {
        let m = format!(
            "From: mitglied{i}@example.org\r\nTo: info@piratenpartei.de\r\nSubject: Frage {i}\r\nMessage-ID: <outbench{i}@example.org>\r\n\r\nHallo\r\n"
        );
        app.ingest_raw("bench", m.as_bytes()).await.unwrap();
    }
    while app.run_intake_once("bench").await.unwrap() > 0 {}
    let count = |sql: String| {
        let db = app.store.db.clone();
        async move {
            let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    let queued = count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'".into()).await;
    println!("  {queued} Mails im Postausgang (Benachrichtigungen + Eingangsbestätigungen)");

    let start = Instant::now();
    let mut worker = std::process::Command::new(&bin)
        .arg("worker")
        .env("LOGBUCH__DATA_DIR", &dir)
        .env("LOGBUCH__DATABASE__URL", &db_url)
        .env("LOGBUCH__REDIS__URL", &redis)
        .env("LOGBUCH__REDIS__PREFIX", format!("{name}:"))
        .env("LOGBUCH__SMTP__HOST", "127.0.0.1")
        .env("LOGBUCH__SMTP__PORT", smtp_port.to_string())
        .env("LOGBUCH__SMTP__SECURITY", "none")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("worker.log")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{bin}: {e}"));
    let mut peak = 0;
    loop {
        peak = peak.max(rss_kb(worker.id()));
        let sent = count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'".into()).await;
        if sent >= queued {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(600), "not sent after 10 minutes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = start.elapsed();
    let _ = worker.kill();
    let _ = worker.wait();
    let failed = count("SELECT COUNT(*) FROM outbox WHERE state <> 'sent'".into()).await;
    println!();
    println!(
        "Benachrichtigungs-Spitze: {queued} Mails auf einmal im Postausgang (PostgreSQL + Redis, `logbuch worker`, Release-Build)"
    );
    println!(
        "  alle an SMTP übergeben in {:.1} s  →  {:.0} Mails/s",
        elapsed.as_secs_f64(),
        queued as f64 / elapsed.as_secs_f64()
    );
    println!("  vom SMTP-Server angenommen: {}, nicht gesendet: {failed}", delivered.load(Ordering::Relaxed));
    println!("  Speicher (RSS) des Workers, Spitze: {} MB", peak / 1024);
    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
}
