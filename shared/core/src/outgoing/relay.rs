//! The connections to the SMTP relay, opened by us so that each has
//! `TCP_NODELAY`: lettre's own pool leaves Nagle's algorithm on, and every
//! mail then waited for the relay's delayed ACK (~40 ms) before its final
//! dot — 25 mails/s per connection, whatever the relay. Plain SMTP and
//! STARTTLS use these connections; implicit TLS (port 465) still goes
//! through lettre's pool, which opens its TLS sockets itself.

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use logbuch_config::{SmtpSecurity, SmtpSettings};
use secrecy::ExposeSecret;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How long one SMTP exchange (connect, or one mail) may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// An idle connection is checked with NOOP before reuse after this long…
const CHECK_AFTER: Duration = Duration::from_secs(2);
/// …and dropped after this long (relays close idle connections themselves).
const IDLE_LIMIT: Duration = Duration::from_secs(50);

/// Why a mail was not handed over.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The relay refused it for good (5xx): do not try again.
    Permanent(String),
    /// Not reachable, a timeout or a 4xx: try again later.
    Temporary(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Permanent(e) | SendError::Temporary(e) => f.write_str(e),
        }
    }
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        if e.is_permanent() { SendError::Permanent(e.to_string()) } else { SendError::Temporary(e.to_string()) }
    }
}

/// The SMTP relay: a pool of at most `connections` open connections.
pub(crate) struct Smtp {
    host: String,
    port: u16,
    starttls: bool,
    credentials: Option<Credentials>,
    hello: ClientId,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    permits: Semaphore,
    /// Implicit TLS: lettre's pool.
    implicit_tls: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("host", &self.host).field("port", &self.port).finish_non_exhaustive()
    }
}

/// The SMTP relay, when one is configured.
pub(crate) fn smtp_transport(s: &SmtpSettings, connections: usize) -> anyhow::Result<Option<Smtp>> {
    let Some(host) = &s.host else { return Ok(None) };
    let credentials = match (&s.user, &s.password) {
        (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password.expose_secret().to_owned())),
        _ => None,
    };
    let connections = connections.max(1);
    let implicit_tls = match s.security {
        SmtpSecurity::Tls => {
            let pool = lettre::transport::smtp::PoolConfig::new().max_size(u32::try_from(connections).unwrap_or(16));
            let mut b = AsyncSmtpTransport::<Tokio1Executor>::relay(host)?
                .port(s.port)
                .timeout(Some(TIMEOUT))
                .pool_config(pool);
            if let Some(c) = &credentials {
                b = b.credentials(c.clone());
            }
            Some(b.build())
        }
        SmtpSecurity::Starttls | SmtpSecurity::None => None,
    };
    Ok(Some(Smtp {
        host: host.clone(),
        port: s.port,
        starttls: s.security == SmtpSecurity::Starttls,
        credentials,
        hello: ClientId::default(),
        idle: Mutex::new(Vec::new()),
        permits: Semaphore::new(connections),
        implicit_tls,
    }))
}

fn timed_out(what: &str) -> SendError {
    SendError::Temporary(format!("Zeitüberschreitung beim Mailserver ({what})"))
}

impl Smtp {
    /// Hands one mail to the relay.
    pub(crate) async fn send_raw(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), SendError> {
        if let Some(t) = &self.implicit_tls {
            return t.send_raw(envelope, raw).await.map(|_| ()).map_err(SendError::from);
        }
        let _permit = self.permits.acquire().await.map_err(|e| SendError::Temporary(e.to_string()))?;
        let mut conn = self.connection().await?;
        let sent = tokio::time::timeout(TIMEOUT, conn.send(envelope, raw)).await.map_err(|_| timed_out("Senden"))?;
        match sent {
            Ok(_) => {
                // Only a connection that finished cleanly is used again.
                if let Ok(mut idle) = self.idle.lock() {
                    idle.push((conn, Instant::now()));
                }
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// An idle connection that still answers, or a new one.
    async fn connection(&self) -> Result<AsyncSmtpConnection, SendError> {
        loop {
            let next = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            let Some((mut conn, since)) = next else { break };
            let age = since.elapsed();
            if conn.has_broken() || age > IDLE_LIMIT {
                continue;
            }
            if age < CHECK_AFTER || tokio::time::timeout(TIMEOUT, conn.test_connected()).await.unwrap_or(false) {
                return Ok(conn);
            }
        }
        tokio::time::timeout(TIMEOUT, self.connect()).await.map_err(|_| timed_out("Verbindungsaufbau"))?
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let unreachable = |e: std::io::Error| {
            SendError::Temporary(format!("Mailserver {}:{} nicht erreichbar: {e}", self.host, self.port))
        };
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await.map_err(unreachable)?;
        tcp.set_nodelay(true).map_err(unreachable)?;
        let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?;
        if self.starttls {
            let tls = TlsParameters::new(self.host.clone())?;
            conn.starttls(tls, &self.hello).await?;
        }
        if let Some(c) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], c).await?;
        }
        Ok(conn)
    }
}
