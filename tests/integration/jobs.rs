//! The job queue contract, run against every backend: SQL on SQLite, SQL on
//! PostgreSQL, and Redis. Same tests, same expectations.

use logbuch_jobs::{JobQueue, RedisQueue, SqlQueue};
use logbuch_tests::{Backend, both, redis_url, spawn_app};
use std::collections::HashSet;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(600);

async fn contract(q: JobQueue) {
    // Enqueue, reserve in order, at most `max`, each once.
    for p in ["a", "b", "c"] {
        q.enqueue(p, Duration::ZERO).await.unwrap();
    }
    q.enqueue("later", Duration::from_secs(3600)).await.unwrap();
    let s = q.stats().await.unwrap();
    assert_eq!((s.ready, s.reserved, s.dead), (4, 0, 0));
    assert!(s.oldest_age_secs.is_some());
    let first = q.reserve("w1", LONG, 2).await.unwrap();
    assert_eq!(first.iter().map(|r| r.payload.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert!(first.iter().all(|r| r.attempts == 1));
    let second = q.reserve("w2", LONG, 10).await.unwrap();
    assert_eq!(second.iter().map(|r| r.payload.as_str()).collect::<Vec<_>>(), ["c"], "delayed jobs wait");
    assert!(q.reserve("w3", LONG, 10).await.unwrap().is_empty());
    let s = q.stats().await.unwrap();
    assert_eq!((s.ready, s.reserved), (1, 3));
    q.ack(&second[0].id).await.unwrap();
    // Several at once; the rest stays.
    q.ack_many(&first.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()).await.unwrap();
    let s = q.stats().await.unwrap();
    assert_eq!((s.ready, s.reserved), (1, 0));

    // A crashed worker's job comes back after its visibility timeout, counted as a new try.
    let id = q.enqueue("crash", Duration::ZERO).await.unwrap();
    let got = q.reserve("dies", Duration::from_millis(300), 1).await.unwrap();
    assert_eq!(got[0].id, id);
    assert!(q.reserve("other", LONG, 1).await.unwrap().is_empty(), "hidden while reserved");
    tokio::time::sleep(Duration::from_millis(450)).await;
    let again = q.reserve("other", LONG, 1).await.unwrap();
    assert_eq!((again[0].id.as_str(), again[0].attempts), (id.as_str(), 2));

    // Failure: retried after a backoff, not at once.
    assert!(!q.fail(&again[0], "SMTP down", 3).await.unwrap());
    assert!(q.reserve("w", LONG, 1).await.unwrap().is_empty(), "backoff delays the retry");
    let s = q.stats().await.unwrap();
    assert_eq!((s.ready, s.reserved, s.dead), (2, 0, 0));

    // Failure at the last try: dead, visible with its error, retriable with fresh tries.
    q.enqueue("doomed", Duration::ZERO).await.unwrap();
    let doomed = q.reserve("w", LONG, 1).await.unwrap();
    assert_eq!(doomed[0].payload, "doomed");
    assert!(q.fail(&doomed[0], "kaputt", 1).await.unwrap());
    let dead = q.dead(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].payload.as_str(), dead[0].last_error.as_deref(), dead[0].attempts),
        ("doomed", Some("kaputt"), 1)
    );
    let s = q.stats().await.unwrap();
    assert_eq!((s.ready, s.reserved, s.dead), (2, 0, 1));
    assert_eq!(q.retry_dead().await.unwrap(), 1);
    assert!(q.dead(10).await.unwrap().is_empty());
    let back = q.reserve("w", LONG, 10).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!((back[0].payload.as_str(), back[0].attempts), ("doomed", 1));
    q.ack(&back[0].id).await.unwrap();

    // Several workers at once: every job handed out exactly once.
    // (enqueued in one round trip, as the IMAP poller does)
    q.enqueue_many(&(0..200).map(|i| format!("job{i}")).collect::<Vec<_>>()).await.unwrap();
    let mut handles = Vec::new();
    for w in 0..4 {
        let q = q.clone();
        handles.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let batch = q.reserve(&format!("w{w}"), LONG, 7).await.unwrap();
                if batch.is_empty() {
                    break;
                }
                for r in batch {
                    seen.push(r.payload.clone());
                    q.ack(&r.id).await.unwrap();
                }
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 200, "no job twice");
    assert_eq!(unique.len(), 200, "no job lost");
    let s = q.stats().await.unwrap();
    assert_eq!((s.ready, s.reserved, s.dead), (2, 0, 0), "only the delayed and the backing-off job are left");
}

async fn sql_queue_contract(backend: Backend) {
    let t = spawn_app(backend).await;
    contract(JobQueue::Sql(SqlQueue::new(t.app.store.db.clone(), "contract"))).await;
}

both!(sql_queue_contract);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_queue_contract() {
    let prefix = format!("lbtest:{:016x}:", rand::random::<u64>());
    let q = RedisQueue::connect(&redis_url(), &prefix, "contract").await.unwrap();
    contract(JobQueue::Redis(q)).await;
}
