//! Runtime settings of a Logbuch process.

use crate::ConfigError;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Everything a process needs to know; travels in the app state, never a global.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where the embedded default keeps its SQLite file.
    pub data_dir: PathBuf,
    /// The federation file; the embedded example is used when unset.
    pub federation_file: Option<PathBuf>,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub limits: LimitSettings,
    pub redis: RedisSettings,
    pub intake: IntakeSettings,
    pub smtp: SmtpSettings,
    pub outgoing: OutgoingSettings,
    pub oidc: OidcSettings,
    pub portal: PortalSettings,
    pub audit: AuditSettings,
    pub pgp: PgpSettings,
}

/// OpenPGP (issue 17).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PgpSettings {
    /// Locks the queues' secret keys at rest (`LOGBUCH__PGP__SECRET`);
    /// unset: a random secret made once and kept in `<data_dir>/pgp-secret.key`.
    pub secret: Option<SecretString>,
    /// Look up a requester's key in their domain's Web Key Directory before
    /// a reply from an encrypting queue, when none is on file.
    pub wkd: bool,
    /// Ask this base URL instead of `https://openpgpkey.<domain>` and
    /// `https://<domain>` (a local mirror; tests).
    pub wkd_base: Option<String>,
}

/// The tamper-evident record (issue 17): sealing the history and access log
/// into hash chains and signing checkpoints over them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSettings {
    /// The Ed25519 key that signs checkpoints: 32 bytes, hex (64 digits).
    /// Keep it outside the database (`LOGBUCH__AUDIT__SIGNING_KEY`); unset:
    /// a key made once and kept in `<data_dir>/audit-signing.key`.
    pub signing_key: Option<SecretString>,
    /// A signed checkpoint over all chains this often.
    pub checkpoint_minutes: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self { signing_key: None, checkpoint_minutes: 60 }
    }
}

/// The requester's side: the web form (`/anfrage/…`) and the status page (`/status`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortalSettings {
    /// Serve the form and the status page.
    pub enabled: bool,
    /// All files of one submission or reply together, at most (default 8 MB).
    pub max_upload_bytes: usize,
    /// A form sent back sooner than this after it was served is taken for a bot's.
    pub min_fill_secs: u64,
    /// A form older than this is refused (and served afresh with what was typed).
    pub form_max_age_hours: u64,
    /// Form submissions per client address and hour, at most.
    pub max_per_ip_per_hour: i64,
    /// Form submissions per requester mail address and hour, at most.
    pub max_per_address_per_hour: i64,
    /// Requests for a new status link per client address and hour, at most
    /// (per requester address: a third of it, at least one).
    pub max_link_requests_per_hour: i64,
    /// A status link keeps working this many days after its ticket was resolved.
    pub link_days_after_resolution: i64,
    /// Behind a reverse proxy: the header naming the client (its last
    /// address counts), e.g. `x-forwarded-for`. Unset: the TCP peer.
    pub client_ip_header: Option<String>,
    /// Signs form tokens and hashes client addresses for the rate limits;
    /// unset: a random secret made once and kept in the database.
    pub secret: Option<SecretString>,
}

impl Default for PortalSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            max_upload_bytes: 8 * 1000 * 1000,
            min_fill_secs: 3,
            form_max_age_hours: 24,
            max_per_ip_per_hour: 10,
            max_per_address_per_hour: 10,
            max_link_requests_per_hour: 10,
            link_days_after_resolution: 30,
            client_ip_header: None,
            secret: None,
        }
    }
}

/// Login through the organisation's OpenID Connect provider (off without an issuer).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSettings {
    /// The provider's issuer URL (discovery at `/.well-known/openid-configuration`).
    pub issuer: Option<String>,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    /// Scopes asked for; `groups` carries the memberships mapped to roles.
    pub scopes: Vec<String>,
    /// A session unused this long ends.
    pub idle_minutes: i64,
    /// A session ends this long after login, used or not.
    pub max_hours: i64,
    /// While a session lasts, the provider is asked again this often (its
    /// userinfo, with the session's access token): changed groups change the
    /// roles, and a person the provider no longer knows is logged out.
    /// 0 asks on every request.
    pub recheck_minutes: i64,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            issuer: None,
            client_id: "logbuch".into(),
            client_secret: None,
            scopes: vec!["openid".into(), "email".into(), "profile".into(), "groups".into()],
            idle_minutes: 120,
            max_hours: 12,
            recheck_minutes: 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Tls,
    Starttls,
    /// Only for a relay on this machine.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// The relay; unset means outgoing mail waits in the outbox.
    pub host: Option<String>,
    pub port: u16,
    pub security: SmtpSecurity,
    pub user: Option<String>,
    pub password: Option<SecretString>,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self { host: None, port: 587, security: SmtpSecurity::Starttls, user: None, password: None }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutgoingSettings {
    /// Envelope sender base: `bounces@example.org` sends as `bounces+t<ticket>@example.org`,
    /// so a bounce names the ticket it answers. Unset: the queue's address.
    pub bounce_address: Option<String>,
    /// Automatic mails (acknowledgements, notifications) per address and day, at most.
    pub max_automatic_per_day: i32,
    /// Tries before a mail counts as undeliverable.
    pub max_attempts: u32,
    /// Mails handed to the relay at the same time (one SMTP connection each).
    pub concurrency: usize,
}

impl Default for OutgoingSettings {
    fn default() -> Self {
        Self { bounce_address: None, max_automatic_per_day: 10, max_attempts: 8, concurrency: 16 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSettings {
    /// `redis://…`; unset means the job queue lives in the database.
    pub url: Option<SecretString>,
    /// Prefix of every key Logbuch writes.
    pub prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntakeSettings {
    /// Directory watched for `.eml` files (relative paths are below `data_dir`).
    pub spool_dir: PathBuf,
    /// Mails larger than this are quarantined (default 25 MB).
    pub max_mail_bytes: usize,
    /// A mail whose parsing takes longer is quarantined.
    pub stage_timeout_secs: u64,
    /// Tries before a mail job is given up and its mail quarantined.
    pub max_attempts: u32,
    /// How long a worker holds a job before others may take it (a crashed
    /// worker's mails are processed again after this); keep it well above
    /// `stage_timeout_secs`.
    pub visibility_secs: u64,
    /// Jobs a worker takes at once.
    pub batch: usize,
    /// Mails an intake loop commits in one transaction (one durable commit
    /// for all of them; a failing mail sends the batch back to one by one).
    pub commit_batch: usize,
    /// Mails a worker processes at the same time (PostgreSQL; SQLite does one at a time).
    pub concurrency: usize,
    /// How long an IMAP poller's lease on its mailbox lasts; another worker
    /// takes the mailbox over this long after the poller died.
    pub lease_secs: u64,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self { url: None, prefix: "logbuch:".into() }
    }
}

impl Default for IntakeSettings {
    fn default() -> Self {
        Self {
            spool_dir: PathBuf::from("eingang"),
            max_mail_bytes: 25 * 1000 * 1000,
            stage_timeout_secs: 30,
            max_attempts: 5,
            visibility_secs: 120,
            batch: 50,
            commit_batch: 25,
            concurrency: 8,
            lease_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub listen: String,
    /// Base URL people reach Logbuch at, used in links.
    pub public_url: String,
    /// Bearer token a Prometheus scraper sends to `/metrics`; without one,
    /// `/metrics` is off (it tells how busy each tenant is).
    pub metrics_token: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`; unset means the SQLite file in `data_dir`.
    pub url: Option<SecretString>,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// Largest request body the API accepts, in bytes.
    pub max_request_bytes: usize,
    /// Largest single attachment, in bytes (default 25 MB).
    pub max_attachment_bytes: usize,
    /// Longest ticket subject, in characters.
    pub max_subject_chars: usize,
    /// Longest message body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            federation_file: None,
            server: ServerSettings::default(),
            database: DatabaseSettings::default(),
            limits: LimitSettings::default(),
            redis: RedisSettings::default(),
            intake: IntakeSettings::default(),
            smtp: SmtpSettings::default(),
            outgoing: OutgoingSettings::default(),
            oidc: OidcSettings::default(),
            portal: PortalSettings::default(),
            audit: AuditSettings::default(),
            pgp: PgpSettings::default(),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self { listen: "127.0.0.1:8080".into(), public_url: "http://127.0.0.1:8080".into(), metrics_token: None }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: None, max_connections: 16 }
    }
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            max_request_bytes: 36 * 1024 * 1024,
            max_attachment_bytes: 25 * 1000 * 1000,
            max_subject_chars: 500,
            max_body_bytes: 1024 * 1024,
        }
    }
}

const ENV_PREFIX: &str = "LOGBUCH__";

impl Settings {
    /// Loads defaults, then `file` (if any), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`Settings::load`], with the environment given (for tests).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let (mut table, origin) = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
                let table: toml::Table = toml::from_str(&text)
                    .map_err(|e| ConfigError::Invalid { origin: path.display().to_string(), message: e.to_string() })?;
                (table, path.display().to_string())
            }
            None => (toml::Table::new(), "defaults".to_owned()),
        };
        let mut from_env = false;
        for (key, value) in env {
            if let Some(rest) = key.strip_prefix(ENV_PREFIX) {
                from_env = true;
                let path: Vec<String> = rest.split("__").map(|p| p.to_ascii_lowercase()).collect();
                let text_only = path.last().is_some_and(|k| TEXT_KEYS.iter().any(|t| k.ends_with(t)));
                insert_path(&mut table, &path, if text_only { toml::Value::String(value) } else { env_value(&value) });
            }
        }
        let origin = if from_env { format!("{origin} + LOGBUCH__* environment") } else { origin };
        // Links and the start message point where Logbuch listens unless public_url says otherwise.
        if let Some(toml::Value::Table(server)) = table.get_mut("server")
            && !server.contains_key("public_url")
            && let Some(toml::Value::String(listen)) = server.get("listen")
        {
            let url = url_of_listen(listen);
            server.insert("public_url".into(), toml::Value::String(url));
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid { origin, message: e.to_string() })
    }

    /// The database URL to use: the configured one or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("logbuch.sqlite").display()),
        }
    }

    /// The spool directory, resolved against `data_dir`.
    pub fn spool_dir(&self) -> PathBuf {
        if self.intake.spool_dir.is_absolute() {
            self.intake.spool_dir.clone()
        } else {
            self.data_dir.join(&self.intake.spool_dir)
        }
    }

    /// True when running on the embedded default (no external database).
    pub fn is_embedded(&self) -> bool {
        self.database.url.is_none()
    }
}

/// Keys whose values are text even when they look like numbers (a password
/// of digits must not turn into an integer).
const TEXT_KEYS: &[&str] = &["password", "user", "url", "token", "secret", "host", "prefix", "address", "signing_key"];

/// `http://` and the listen address, with an any-address (`0.0.0.0`, `[::]`)
/// replaced by loopback: the address a browser on the same machine can open.
fn url_of_listen(listen: &str) -> String {
    let reachable = match listen.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => listen.to_owned(),
    };
    format!("http://{reachable}")
}

/// Environment values are typed like TOML scalars where they parse as such.
fn env_value(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_owned()),
    }
}

fn insert_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table.entry(first.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_are_the_embedded_sqlite() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert!(s.is_embedded());
        assert_eq!(s.server.listen, "127.0.0.1:8080");
        assert!(s.database_url().starts_with("sqlite://data/logbuch.sqlite"));
    }

    #[test]
    fn env_overrides_nested_keys() {
        let s = Settings::load_from(
            None,
            env(&[("LOGBUCH__DATABASE__URL", "postgres://x@y/z"), ("LOGBUCH__DATABASE__MAX_CONNECTIONS", "3")]),
        )
        .unwrap();
        assert_eq!(s.database_url(), "postgres://x@y/z");
        assert_eq!(s.database.max_connections, 3);
    }

    #[test]
    fn public_url_follows_listen_unless_given() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.server.public_url, "http://127.0.0.1:8080");
        let s = Settings::load_from(None, env(&[("LOGBUCH__SERVER__LISTEN", "127.0.0.1:8092")])).unwrap();
        assert_eq!(s.server.public_url, "http://127.0.0.1:8092");
        let s = Settings::load_from(None, env(&[("LOGBUCH__SERVER__LISTEN", "0.0.0.0:9000")])).unwrap();
        assert_eq!(s.server.public_url, "http://127.0.0.1:9000");
        let s = Settings::load_from(None, env(&[("LOGBUCH__SERVER__LISTEN", "[::]:9000")])).unwrap();
        assert_eq!(s.server.public_url, "http://[::1]:9000");
        let s = Settings::load_from(
            None,
            env(&[
                ("LOGBUCH__SERVER__LISTEN", "0.0.0.0:9000"),
                ("LOGBUCH__SERVER__PUBLIC_URL", "https://t.example.org"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.public_url, "https://t.example.org");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Settings::load_from(None, env(&[("LOGBUCH__DATABSE__URL", "x")])).unwrap_err();
        assert!(err.to_string().contains("databse"), "{err}");
    }

    #[test]
    fn secrets_of_digits_stay_text() {
        let s = Settings::load_from(
            None,
            env(&[
                ("LOGBUCH__SMTP__PASSWORD", "123456"),
                ("LOGBUCH__SERVER__METRICS_TOKEN", "42"),
                ("LOGBUCH__SMTP__PORT", "2525"),
            ]),
        )
        .unwrap();
        assert_eq!(s.smtp.password.map(|p| p.expose_secret().to_owned()).as_deref(), Some("123456"));
        assert_eq!(s.server.metrics_token.map(|p| p.expose_secret().to_owned()).as_deref(), Some("42"));
        assert_eq!(s.smtp.port, 2525);
    }

    #[test]
    fn file_then_env() {
        let dir = std::env::temp_dir().join(format!("logbuch-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "[server]\nlisten = \"0.0.0.0:9000\"\n[limits]\nmax_subject_chars = 10\n").unwrap();
        let s = Settings::load_from(Some(&file), env(&[("LOGBUCH__SERVER__LISTEN", "127.0.0.1:1")])).unwrap();
        assert_eq!(s.server.listen, "127.0.0.1:1");
        assert_eq!(s.limits.max_subject_chars, 10);
    }
}
