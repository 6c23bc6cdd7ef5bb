//! Background work run by `logbuch serve` and `logbuch worker`.
//!
//! For now one periodic task: queue escalation (seed 000: in sensitive
//! queues a waiting ticket's priority rises). Mail intake and the outbox join
//! here with their issues. Each task exposes a `…_once` for tests and runs
//! in a loop until cancelled in production.

use crate::Logbuch;
use std::time::Duration;
use tokio::sync::watch;

/// A cancellation signal shared by all tasks of a process.
#[derive(Clone, Debug)]
pub struct Cancel {
    tx: std::sync::Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Default for Cancel {
    fn default() -> Self {
        Self::new()
    }
}

impl Cancel {
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Self {
            tx: std::sync::Arc::new(tx),
            rx,
        }
    }

    pub fn cancel(&self) {
        let _ = self.tx.send(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.rx.borrow()
    }

    pub async fn cancelled(&self) {
        let mut rx = self.rx.clone();
        // An error means the sender is gone, which also ends the wait.
        let _ = rx.wait_for(|c| *c).await;
    }
}

const ESCALATION_EVERY: Duration = Duration::from_secs(60);

/// Runs the background tasks until `cancel` fires.
pub async fn run(app: Logbuch, cancel: Cancel) {
    tracing::info!("background workers started");
    loop {
        match app.escalate_priorities(logbuch_store::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(tickets = n, "escalated waiting tickets"),
            Err(e) => tracing::warn!(
                error = format!("{e:#}"),
                "escalation failed; retrying next round"
            ),
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(ESCALATION_EVERY) => {}
        }
    }
    tracing::info!("background workers stopped");
}
