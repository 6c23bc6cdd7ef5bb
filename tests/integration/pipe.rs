//! The MTA pipe on the embedded default: 1,000 mails through the real
//! `logbuch ingest`, one at a time and then four at a time, while the real
//! `logbuch serve` (HTTP and workers) writes the same SQLite file. Every
//! pipe answers 0 (stored) and every mail becomes a ticket; an empty input
//! answers 65 (never retried), a mail the database could not take 75.

use crate::crash::counts;
use crate::intake::mail;
use logbuch_tests::{Backend, free_port, logbuch_command, logbuch_process, spawn_app};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ONE_BY_ONE: usize = 500;
const FOUR_AT_A_TIME: usize = 500;

/// Pipes one mail into `logbuch ingest` and returns its exit code and what it said.
fn pipe(mut cmd: Command, raw: &[u8]) -> (i32, String) {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test]
async fn sqlite_pipe_never_refuses_a_mail_while_the_server_runs() {
    let t = spawn_app(Backend::Sqlite).await;
    let settings = t.app.settings.clone();
    let port = free_port();
    let log = settings.data_dir.join("serve.log");
    let listen = format!("127.0.0.1:{port}");
    let mut server = logbuch_process(&settings, &["serve"], &log, &[("LOGBUCH__SERVER__LISTEN", &listen)]);
    let http = reqwest::Client::new();
    let start = Instant::now();
    while !http.get(format!("http://{listen}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(
            start.elapsed() < Duration::from_secs(60) && server.try_wait().unwrap().is_none(),
            "server not ready: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ingest = || logbuch_command(&settings, &["ingest", "--source", "pipe"], &[]);
    let queues = ["mitglieder-by@piratenpartei.de", "presse@piratenpartei-nrw.de", "mitglieder@piratenpartei.de"];
    let raw = |i: usize| {
        mail(
            &format!("pipe{i}@x"),
            &format!("m{i}@example.org"),
            queues[i % queues.len()],
            &format!("Frage {i}"),
            "Hallo",
        )
    };
    let mut refused = Vec::new();
    for i in 0..ONE_BY_ONE {
        let (code, said) = pipe(ingest(), &raw(i));
        if code != 0 {
            refused.push(format!("mail {i}: exit {code}: {said}"));
        }
    }
    let total = ONE_BY_ONE + FOUR_AT_A_TIME;
    let mut next = ONE_BY_ONE;
    while next < total {
        let batch: Vec<_> = (next..(next + 4).min(total))
            .map(|i| {
                let cmd = ingest();
                let m = raw(i);
                std::thread::spawn(move || (i, pipe(cmd, &m)))
            })
            .collect();
        for h in batch {
            let (i, (code, said)) = h.join().unwrap();
            if code != 0 {
                refused.push(format!("mail {i}: exit {code}: {said}"));
            }
        }
        next += 4;
    }
    let (empty, said) = pipe(ingest(), b"");
    let start = Instant::now();
    while counts(&t).await != (total as u64, 0) {
        assert!(
            start.elapsed() < Duration::from_secs(180) && server.try_wait().unwrap().is_none(),
            "not all processed: {:?}; {}",
            counts(&t).await,
            std::fs::read_to_string(&log).unwrap_or_default().lines().rev().take(20).collect::<Vec<_>>().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(refused.is_empty(), "{} of {total} refused:\n{}", refused.len(), refused.join("\n"));
    assert_eq!(empty, 65, "an empty input is permanently unusable: {said}");
    let tickets = logbuch_store::tickets::count_all(&t.app.store.db).await.unwrap();
    assert_eq!(tickets, total as u64);
}
