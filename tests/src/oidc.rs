//! A real OpenID Connect provider per test (npm oidc-provider, installed by
//! tests/peers/oidc-up.sh), with the test's own client and accounts, and a
//! browser-like login through it over HTTP.

pub use crate::free_port;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "ticket-tracker";
pub const CLIENT_SECRET: &str = "tracker-secret";

/// A running provider; stopped when dropped.
pub struct Provider {
    pub issuer: String,
    child: Child,
    /// The accounts as the provider reads them at every use.
    accounts_file: std::path::PathBuf,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.accounts_file);
    }
}

impl Provider {
    /// Starts a provider for an app at `app_url` with these accounts
    /// (`{"alice": {"password": …, "email": …, "name": …, "groups": […]}}`).
    /// `port` 0 picks one; a restart passes the old port (the issuer stays).
    pub async fn start(app_url: &str, accounts: &serde_json::Value, port: u16) -> Provider {
        Self::start_with_token_ttl(app_url, accounts, port, 3600).await
    }

    /// As [`Provider::start`], with access tokens living `access_ttl` seconds
    /// (refresh tokens are issued too).
    pub async fn start_with_token_ttl(
        app_url: &str,
        accounts: &serde_json::Value,
        port: u16,
        access_ttl: u32,
    ) -> Provider {
        let dir = std::env::var("LOGBUCH_TEST_OIDC_DIR").unwrap_or_else(|_| "/tmp/peers/oidc".into());
        let script = std::path::Path::new(&dir).join("oidc-op.mjs");
        assert!(script.exists(), "{} missing: run tests/peers/oidc-up.sh (tests/run.sh does)", script.display());
        let port = if port == 0 { free_port() } else { port };
        let clients = serde_json::json!([{
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [format!("{app_url}/auth/callback")],
            "post_logout_redirect_uris": [format!("{app_url}/")],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }]);
        let accounts_file = std::env::temp_dir().join(format!("logbuch-oidc-accounts-{port}.json"));
        std::fs::write(&accounts_file, accounts.to_string()).unwrap();
        let child = Command::new("node")
            .arg(&script)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CLIENTS", clients.to_string())
            .env("OIDC_ACCOUNTS", accounts.to_string())
            .env("OIDC_ACCOUNTS_FILE", &accounts_file)
            .env("OIDC_ACCESS_TTL", access_ttl.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node");
        let issuer = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        let http = reqwest::Client::new();
        while !http
            .get(format!("{issuer}/.well-known/openid-configuration"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(start.elapsed() < Duration::from_secs(20), "the OIDC provider did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Provider { issuer, child, accounts_file }
    }

    /// Changes the people at the running provider (their tokens stay valid).
    pub fn set_accounts(&self, accounts: &serde_json::Value) {
        std::fs::write(&self.accounts_file, accounts.to_string()).unwrap();
    }
}

/// The four people of the provider's defaults: alice (BY helper), bob
/// (federal officer), carol (both), dave (no groups). Password `secret`.
pub fn accounts(alice_groups: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "alice": {"password": "secret", "name": "Alice Helper", "email": "alice@example.test", "groups": alice_groups},
        "bob": {"password": "secret", "name": "Bob Bund", "email": "bob@example.test", "groups": ["bund-beauftragte"]},
        "dave": {"password": "secret", "name": "Dave Nogroup", "email": "dave@example.test", "groups": []},
    })
}

/// A browser: cookies kept, redirects followed by hand.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Logs `user` in at the app through the provider's login form, as a
/// browser would; returns the last response (the app's redirect home).
pub async fn login(b: &reqwest::Client, app_url: &str, user: &str, password: &str) -> reqwest::Response {
    let mut url = format!("{app_url}/auth/login");
    for _ in 0..12 {
        let r = b.get(&url).send().await.unwrap();
        if r.status().is_redirection() {
            let to = r.headers()["location"].to_str().unwrap().to_owned();
            if url.starts_with(&format!("{app_url}/auth/callback")) {
                return r;
            }
            url = if to.starts_with('/') {
                let base = reqwest::Url::parse(&url).unwrap();
                base.join(&to).unwrap().to_string()
            } else {
                to
            };
            continue;
        }
        if url.starts_with(&format!("{app_url}/auth/callback")) {
            return r;
        }
        // The provider's login form.
        let body = r.text().await.unwrap();
        assert!(body.contains("id=\"login\""), "expected the login form at {url}: {body}");
        let action = body.split("action=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_owned();
        let base = reqwest::Url::parse(&url).unwrap();
        let post = base.join(&action).unwrap();
        let r = b.post(post.clone()).form(&[("login", user), ("password", password)]).send().await.unwrap();
        assert!(r.status().is_redirection(), "login at the provider failed: {}", r.status());
        url = base.join(r.headers()["location"].to_str().unwrap()).unwrap().to_string();
    }
    panic!("the login did not come back to {app_url}");
}
