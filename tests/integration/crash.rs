//! Kill a worker process in the middle of a batch and start another: every
//! mail ends up a ticket exactly once. Runs the real `logbuch worker`
//! binary (built by tests/run.sh) against the test's database (and Redis).

use crate::intake::mail;
use logbuch_tests::{Backend, both, logbuch_process, spawn_app_with};
use sea_orm::{ConnectionTrait, Statement};
use std::process::Child;
use std::time::{Duration, Instant};

const MAILS: usize = 400;

fn worker(settings: &logbuch_config::Settings, log: &std::path::Path) -> Child {
    logbuch_process(
        settings,
        &["worker"],
        log,
        &[
            ("LOGBUCH__INTAKE__VISIBILITY_SECS", "3"),
            ("LOGBUCH__INTAKE__STAGE_TIMEOUT_SECS", "2"),
            ("LOGBUCH__INTAKE__BATCH", "25"),
        ],
    )
}

pub(crate) async fn counts(t: &logbuch_tests::TestApp) -> (u64, u64) {
    let db = &t.app.store.db;
    let done = logbuch_store::intake::count_raw(db, "done").await.unwrap();
    let pending = logbuch_store::intake::count_raw(db, "pending").await.unwrap();
    (done, pending)
}

async fn killed_worker_loses_and_duplicates_nothing(backend: Backend) {
    let t = spawn_app_with(backend, |_| {}).await;
    let queues = [
        "mitglieder-by@piratenpartei.de",
        "presse@piratenpartei-nrw.de",
        "mitglieder@piratenpartei.de",
        "kontakt-sh@piratenpartei.de",
    ];
    for i in 0..MAILS {
        let m = mail(
            &format!("crash{i}@x"),
            &format!("m{i}@example.org"),
            queues[i % queues.len()],
            &format!("Mail {i}"),
            "x",
        );
        t.app.ingest_raw("test", &m).await.unwrap();
    }
    let log = t.app.settings.data_dir.join("worker.log");
    let mut first = worker(&t.app.settings, &log);
    let start = Instant::now();
    loop {
        let (done, _) = counts(&t).await;
        if done >= 40 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the worker processed nothing: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill().unwrap(); // SIGKILL: no cleanup, transactions cut off, jobs left reserved
    first.wait().unwrap();
    let (done, pending) = counts(&t).await;
    assert!(pending > 0, "killed before the end (done {done})");

    let mut second = worker(&t.app.settings, &t.app.settings.data_dir.join("worker2.log"));
    let start = Instant::now();
    while counts(&t).await.1 > 0 {
        assert!(start.elapsed() < Duration::from_secs(90), "the second worker did not finish: {:?}", counts(&t).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();

    assert_eq!(counts(&t).await, (MAILS as u64, 0));
    let db = &t.app.store.db;
    let one = |sql: &str| Statement::from_string(db.get_database_backend(), sql.to_owned());
    let row = db.query_one_raw(one("SELECT COUNT(*) FROM tickets")).await.unwrap().unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), MAILS as i64, "one ticket per mail");
    let row = db
        .query_one_raw(one("SELECT COUNT(*) FROM (SELECT message_id_header FROM messages GROUP BY message_id_header HAVING COUNT(*) > 1) d"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 0, "no mail twice");
    let row = db.query_one_raw(one("SELECT COUNT(DISTINCT message_id_header) FROM messages")).await.unwrap().unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), MAILS as i64, "every mail once");
}

both!(killed_worker_loses_and_duplicates_nothing);
