//! Horizontal scaling: three worker processes and two HTTP processes of the
//! real binary on one PostgreSQL and one Redis. Mail keeps arriving in an
//! IMAP mailbox; the worker polling it is killed mid-peak. Another worker
//! takes the mailbox over, every mail becomes a ticket exactly once, and both
//! HTTP processes keep serving.

use crate::crash::counts;
use crate::intake::mail;
use logbuch_tests::mailpeer::{imap_reset, imap_user, lmtp_deliver, with_mailboxes};
use logbuch_tests::{Backend, free_port, logbuch_process, spawn_app_with};
use sea_orm::{ConnectionTrait, Statement};
use std::time::{Duration, Instant};

const MAILS: usize = 300;

async fn lease_owner(t: &logbuch_tests::TestApp, mailbox: &str) -> Option<String> {
    let db = &t.app.store.db;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT lease_owner FROM mailboxes WHERE name = $1",
            [mailbox.into()],
        ))
        .await
        .unwrap()?;
    row.try_get_by_index::<Option<String>>(0).unwrap()
}

/// The process id in a lease owner (`poller-<pid>-<random>`).
fn owner_pid(owner: &str) -> u32 {
    owner.split('-').nth(1).and_then(|p| p.parse().ok()).unwrap()
}

#[tokio::test]
async fn three_workers_two_servers_survive_a_killed_poller() {
    let backend = Backend::Postgres;
    let user = imap_user('c', backend);
    imap_reset(&user).await;
    let t = spawn_app_with(backend, |s| with_mailboxes(s, std::slice::from_ref(&user))).await;
    let officer = t.person("fo@bund.example", &[("federal_officer", None, None)]).await;
    let dir = t.app.settings.data_dir.clone();
    let worker_env = [
        ("LOGBUCH__INTAKE__LEASE_SECS", "3"),
        ("LOGBUCH__INTAKE__VISIBILITY_SECS", "3"),
        ("LOGBUCH__INTAKE__BATCH", "25"),
    ];
    let mut workers: Vec<_> = (1..=3)
        .map(|n| logbuch_process(&t.app.settings, &["worker"], &dir.join(format!("worker{n}.log")), &worker_env))
        .collect();
    let ports = [free_port(), free_port()];
    let mut servers: Vec<_> = ports
        .iter()
        .enumerate()
        .map(|(n, port)| {
            let listen = format!("127.0.0.1:{port}");
            logbuch_process(
                &t.app.settings,
                &["serve", "--no-workers", "--skip-migrations"],
                &dir.join(format!("http{n}.log")),
                &[("LOGBUCH__SERVER__LISTEN", listen.as_str())],
            )
        })
        .collect();

    // The peak: mails keep arriving while the workers run.
    let deliver = {
        let user = user.clone();
        tokio::spawn(async move {
            for i in 0..MAILS {
                let m = mail(
                    &format!("scale{i}@x"),
                    &format!("m{i}@example.org"),
                    "mitglieder-by@piratenpartei.de",
                    &format!("Mail {i}"),
                    "x",
                );
                lmtp_deliver(&user, &m).await;
            }
        })
    };

    // Once a fifth is in, kill whichever worker polls the mailbox.
    let start = Instant::now();
    let first_owner = loop {
        if counts(&t).await.0 >= (MAILS / 5) as u64
            && let Some(owner) = lease_owner(&t, &user).await
        {
            break owner;
        }
        assert!(start.elapsed() < Duration::from_secs(90), "no worker took the mailbox: {:?}", counts(&t).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let victim = workers.iter().position(|w| w.id() == owner_pid(&first_owner)).expect("the owner is one of ours");
    let mut killed = workers.remove(victim);
    killed.kill().unwrap(); // SIGKILL: the lease is not released, it runs out
    killed.wait().unwrap();
    let killed_at = counts(&t).await.0;
    assert!(killed_at < MAILS as u64, "killed mid-peak");

    // Both HTTP processes answer meanwhile.
    let http = reqwest::Client::new();
    for (n, port) in ports.into_iter().enumerate() {
        let start = Instant::now();
        while !http.get(format!("http://127.0.0.1:{port}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            assert!(
                start.elapsed() < Duration::from_secs(60) && servers[n].try_wait().unwrap().is_none(),
                "HTTP process {n} on :{port} not ready: {}",
                std::fs::read_to_string(dir.join(format!("http{n}.log"))).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let r = http
            .get(format!("http://127.0.0.1:{port}/api/v1/tickets?tenant=by&per_page=1"))
            .bearer_auth(&officer.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK, "HTTP process on :{port}");
    }

    deliver.await.unwrap();
    let start = Instant::now();
    while counts(&t).await != (MAILS as u64, 0) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the remaining workers did not finish: {:?}, lease {:?}",
            counts(&t).await,
            lease_owner(&t, &user).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let new_owner = lease_owner(&t, &user).await.expect("the mailbox has a poller again");
    assert_ne!(owner_pid(&new_owner), owner_pid(&first_owner), "taken over by another worker");
    assert!(workers.iter().any(|w| w.id() == owner_pid(&new_owner)), "by one of the surviving workers");

    let db = &t.app.store.db;
    let one = |sql: &str| Statement::from_string(db.get_database_backend(), sql.to_owned());
    let count =
        async |sql: &str| db.query_one_raw(one(sql)).await.unwrap().unwrap().try_get_by_index::<i64>(0).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM tickets").await, MAILS as i64, "one ticket per mail");
    assert_eq!(count("SELECT COUNT(DISTINCT message_id_header) FROM messages").await, MAILS as i64, "every mail");
    assert_eq!(
        count("SELECT COUNT(*) FROM (SELECT message_id_header FROM messages GROUP BY 1 HAVING COUNT(*) > 1) d").await,
        0,
        "no mail twice"
    );
    // Both HTTP processes see the same, complete picture.
    for port in ports {
        let r: serde_json::Value = http
            .get(format!("http://127.0.0.1:{port}/api/v1/tickets?q=Mail&per_page=200&tenant=by"))
            .bearer_auth(&officer.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["tickets"].as_array().map(Vec::len), Some(200), "{port}: {r}");
        assert_eq!(r["next_page"], 2, "{port}");
    }
    for mut p in workers.into_iter().chain(servers.drain(..)) {
        p.kill().unwrap();
        p.wait().unwrap();
    }
    eprintln!("killed the poller after {killed_at} of {MAILS} mails; taken over by {new_owner}");
}
