//! Test harness: `spawn_app` starts a real Logbuch on port 0 with its own
//! database — a fresh SQLite file, or a fresh PostgreSQL database — and
//! `both!` runs each scenario on both backends.
//!
//! PostgreSQL comes from `LOGBUCH_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5433/postgres`, the throwaway instance
//! `tests/peers/pg-up.sh` starts). There is no skipping: without it the
//! PostgreSQL half fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod mailpeer;
pub mod oidc;

/// Helpers of the benchmark binaries.
pub mod bench {
    /// Resident memory of a process in KiB (Linux), 0 if unknown.
    pub fn rss_kb(pid: u32) -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }
}

use logbuch_config::Settings;
use logbuch_core::{Logbuch, Principal, admin};
use logbuch_domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn name(backend: Backend)` of the calling module on both backends.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::Backend::Postgres).await }
            )*
        }
    };
}

pub struct TestApp {
    pub url: String,
    pub app: Logbuch,
    pub http: reqwest::Client,
    pub backend: Backend,
    _dir: TempDir,
}

/// A directory removed when the test ends.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{:016x}", std::process::id(), rand::random::<u64>())
}

/// Redis for tests: `LOGBUCH_TEST_REDIS_URL`, default the throwaway instance of `tests/peers/redis-up.sh`.
pub fn redis_url() -> String {
    std::env::var("LOGBUCH_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6380".into())
}

/// The settings a test runs with: no environment, so the developer's own
/// `LOGBUCH__*` variables cannot leak in.
pub async fn test_settings(backend: Backend) -> (Settings, TempDir) {
    let dir = TempDir(std::env::temp_dir().join(unique("logbuch-test")));
    std::fs::create_dir_all(&dir.0).unwrap();
    let mut settings = Settings::load_from(None, Vec::<(String, String)>::new()).unwrap();
    settings.data_dir = dir.0.clone();
    settings.server.listen = "127.0.0.1:0".into();
    if backend == Backend::Postgres {
        let base = std::env::var("LOGBUCH_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5433/postgres".into());
        let name = unique("lb");
        let admin = sea_orm::Database::connect(&base).await.unwrap_or_else(|e| {
            panic!("PostgreSQL for tests is not reachable at {base}: {e}. Start it with tests/peers/pg-up.sh or set LOGBUCH_TEST_DATABASE_URL.")
        });
        use sea_orm::ConnectionTrait;
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
        admin.close().await.unwrap();
        let (prefix, _) = base.rsplit_once('/').unwrap();
        settings.database.url = Some(format!("{prefix}/{name}").into());
        settings.database.max_connections = 5;
        // PostgreSQL runs as in production: with the Redis job queue.
        settings.redis.url = Some(redis_url().into());
        settings.redis.prefix = format!("{name}:");
    }
    (settings, dir)
}

/// A running Logbuch on port 0 with the embedded federation file applied.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let (mut settings, dir) = test_settings(backend).await;
    tweak(&mut settings);
    let app = Logbuch::connect(settings).await.unwrap();
    app.prepare().await.unwrap();
    // Port 0 unless the test fixed one (SSO needs its redirect address up front).
    let listener = tokio::net::TcpListener::bind(&app.settings.server.listen).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = app.clone();
    tokio::spawn(async move { logbuch_http::serve(served, listener, std::future::pending()).await });
    TestApp { url, app, http: reqwest::Client::new(), backend, _dir: dir }
}

/// A person with roles, their principal and API token.
#[derive(Clone, Debug)]
pub struct Person {
    pub email: String,
    pub token: String,
}

/// Role spec like `("helper", Some("nw"), Some("presse"))`.
pub type RoleSpec<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

impl TestApp {
    /// Creates a person holding `roles` and a token for them.
    pub async fn person(&self, email: &str, roles: &[RoleSpec<'_>]) -> Person {
        admin::create_user(&self.app, email, email).await.unwrap();
        for (role, tenant, queue) in roles {
            let role: Role = role.parse().unwrap();
            admin::grant_role(&self.app, email, role, *tenant, *queue).await.unwrap();
        }
        let token = admin::create_token(&self.app, email, "test").await.unwrap();
        Person { email: email.to_owned(), token }
    }

    pub async fn principal(&self, p: &Person) -> Principal {
        self.app.authenticate_token(&p.token).await.unwrap()
    }

    /// Sends a request as `who` (or anonymously); returns status and JSON body (Null if none).
    pub async fn call(
        &self,
        who: Option<&Person>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(p) = who {
            req = req.bearer_auth(&p.token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        let json =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, json)
    }

    pub async fn get(&self, who: &Person, path: &str) -> (StatusCode, Value) {
        self.call(Some(who), Method::GET, path, None).await
    }

    pub async fn post(&self, who: &Person, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Some(who), Method::POST, path, Some(body)).await
    }

    /// Creates a ticket through the API and returns its number (asserts success).
    pub async fn create_ticket(&self, who: &Person, tenant: &str, queue: &str, subject: &str) -> i64 {
        let (status, body) = self
            .post(
                who,
                "/api/v1/tickets",
                serde_json::json!({
                    "tenant": tenant, "queue": queue, "subject": subject,
                    "body": format!("Anliegen: {subject}"), "requester": "mitglied@example.org"
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["number"].as_i64().unwrap()
    }

    /// Ticket numbers of a list call.
    pub async fn list_numbers(&self, who: &Person, query: &str) -> Vec<i64> {
        let (status, body) = self.get(who, &format!("/api/v1/tickets{query}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["tickets"].as_array().unwrap().iter().map(|t| t["number"].as_i64().unwrap()).collect()
    }
}

/// A free port on the loopback (for a server started right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The `logbuch` binary built by `cargo build` (tests/run.sh builds it), or `LOGBUCH_BIN`.
pub fn logbuch_binary() -> std::path::PathBuf {
    std::env::var("LOGBUCH_BIN")
        .map(Into::into)
        .unwrap_or_else(|_| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/logbuch"))
}

/// Starts the real binary (`args`: `worker`, `serve --no-workers …`) on the
/// test's database, Redis and federation file, logging to `log`.
pub fn logbuch_process(
    settings: &Settings,
    args: &[&str],
    log: &std::path::Path,
    env: &[(&str, &str)],
) -> std::process::Child {
    let mut cmd = logbuch_command(settings, args, env);
    cmd.stdout(std::process::Stdio::null()).stderr(std::fs::File::create(log).unwrap());
    cmd.spawn().unwrap()
}

/// The real binary as a command on the test's database, Redis and federation
/// file (nothing else of the environment), for the caller to wire and run.
pub fn logbuch_command(settings: &Settings, args: &[&str], env: &[(&str, &str)]) -> std::process::Command {
    use secrecy::ExposeSecret;
    let bin = logbuch_binary();
    assert!(bin.exists(), "{} missing: run `cargo build` first (tests/run.sh does)", bin.display());
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("LOGBUCH__DATA_DIR", &settings.data_dir);
    if let Some(f) = &settings.federation_file {
        cmd.env("LOGBUCH__FEDERATION_FILE", f);
    }
    if let Some(url) = &settings.database.url {
        cmd.env("LOGBUCH__DATABASE__URL", url.expose_secret());
        cmd.env("LOGBUCH__REDIS__URL", redis_url());
        cmd.env("LOGBUCH__REDIS__PREFIX", &settings.redis.prefix);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// A call to a peer's JSON API (RT, Redmine): the answer's JSON, Null when
/// empty. Fails, naming `peer` and `path`, when the peer does not answer or
/// answers with an error status.
pub async fn peer_json(req: reqwest::RequestBuilder, peer: &str, path: &str) -> serde_json::Value {
    let res = req.send().await.unwrap_or_else(|e| panic!("{peer} does not answer ({path}): {e}"));
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.is_success(), "{peer} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

/// A file a peer's start script wrote into its directory (`env` names the
/// directory, else /tmp/peers/<name>); fails, never skips, when the peer is not there.
pub fn peer_file(env: &str, name: &str, file: &str) -> String {
    let dir = std::env::var(env).unwrap_or_else(|_| format!("/tmp/peers/{name}"));
    std::fs::read_to_string(format!("{dir}/{file}"))
        .unwrap_or_else(|e| panic!("{dir}/{file}: {e}. Start it with tests/peers/{name}-up.sh (tests/run.sh does)."))
        .trim()
        .to_owned()
}
