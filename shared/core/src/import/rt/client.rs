//! RT's REST2 over HTTP: a session instead of the token on every call,
//! searches read page by page (at most 100 items each; the pages after the
//! first side by side), and people looked up once per import.

use super::super::SourceUser;
use crate::{AppError, AppResult};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Searches RT answers at once (its standalone server runs two workers).
const PARALLEL: usize = 3;

pub(crate) struct Client {
    http: reqwest::Client,
    url: String,
    api: String,
    auth: String,
    /// RT's session cookie: REST2 checks a token with bcrypt on every call
    /// (about 0.3 s of RT's time), a session once.
    session: Mutex<Option<String>>,
    /// People by RT user name.
    users: tokio::sync::Mutex<HashMap<String, SourceUser>>,
    /// Users and queues by numeric id, named for history values.
    names: tokio::sync::Mutex<HashMap<String, String>>,
}

pub(crate) fn failed(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("RT: {what}: {e}"))
}

/// A JSON value as text: strings as they are, numbers written out, anything else empty.
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A user object of RT (`{"id": "root", "EmailAddress": …, "RealName": …}`).
pub(crate) fn user_of(v: &Value) -> SourceUser {
    let login = text(&v["id"]);
    let mut email = text(&v["EmailAddress"]).trim().to_lowercase();
    if email.is_empty() && login.contains('@') {
        // Known by name only: an unprivileged user's name is their address.
        email = login.trim().to_lowercase();
    }
    let name = text(&v["RealName"]);
    // RT makes people who write in by mail unprivileged users named by their address.
    let staff = !login.is_empty() && !login.eq_ignore_ascii_case(&email) && login != "RT_System";
    SourceUser { login, email, name, staff }
}

impl Client {
    pub(crate) fn new(url: &str, token: &str) -> AppResult<Self> {
        let http = super::super::source_client("RT")?;
        Ok(Self {
            http,
            url: url.to_owned(),
            api: format!("{url}/REST/2.0"),
            auth: format!("token {}", token.trim()),
            session: Mutex::new(None),
            users: tokio::sync::Mutex::new(HashMap::new()),
            names: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Opens a session with the token on RT's web side (which keeps it in a
    /// cookie); without one every call is authenticated by the token again.
    pub(crate) async fn login(&self) {
        let res = self.http.get(format!("{}/", self.url)).header("Authorization", &self.auth).send().await;
        let cookie = res.ok().and_then(|r| {
            r.headers()
                .get_all(reqwest::header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find(|v| v.starts_with("RT_SID_"))
                .and_then(|v| v.split(';').next())
                .map(str::to_owned)
        });
        if let Ok(mut s) = self.session.lock() {
            *s = cookie;
        }
    }

    pub(crate) async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> AppResult<Value> {
        // The token too: when the session has expired, RT takes the token instead.
        let mut req = req.header("Authorization", &self.auth);
        if let Some(cookie) = self.session.lock().ok().and_then(|s| s.clone()) {
            // RT refuses a session's POST without a referrer of its own (CSRF protection).
            req =
                req.header(reqwest::header::COOKIE, cookie).header(reqwest::header::REFERER, format!("{}/", self.url));
        }
        let res = req.send().await.map_err(|e| failed(what, e))?;
        let status = res.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(AppError::validation("token", "RT nimmt das Token nicht an (401/403)."));
        }
        if !status.is_success() {
            let body: String = res.text().await.unwrap_or_default().chars().take(300).collect();
            return Err(failed(what, format!("HTTP {status}: {body}")));
        }
        res.json().await.map_err(|e| failed(what, e))
    }

    pub(crate) async fn get(&self, path: &str, what: &str) -> AppResult<Value> {
        self.send(self.http.get(format!("{}{path}", self.api)), what).await
    }

    async fn page(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        page: u64,
        what: &str,
    ) -> AppResult<Value> {
        let mut q = query.to_vec();
        q.push(("per_page", "100".into()));
        q.push(("page", page.to_string()));
        let url = format!("{}{path}", self.api);
        let req = match body {
            Some(b) => self.http.post(url).query(&q).json(b),
            None => self.http.get(url).query(&q),
        };
        self.send(req, what).await
    }

    /// Every item of a search (`body`: a JSON query, sent by POST).
    pub(crate) async fn search_all(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        what: &str,
    ) -> AppResult<Vec<Value>> {
        let items = |v: Value| match v.get("items") {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        let first = self.page(path, query, body, 1, what).await?;
        let total = first["total"].as_u64().or_else(|| text(&first["total"]).parse().ok());
        let mut more = first.get("next_page").is_some();
        let mut out = items(first);
        if let Some(total) = total {
            // The count is known: the other pages side by side.
            let pages = total.div_ceil(100);
            let rest: Vec<Value> = futures_util::stream::iter(2..=pages)
                .map(|p| self.page(path, query, body, p, what))
                .buffered(PARALLEL)
                .try_collect()
                .await?;
            for v in rest {
                out.extend(items(v));
            }
            return Ok(out);
        }
        let mut page = 1;
        while more {
            page += 1;
            let v = self.page(path, query, body, page, what).await?;
            more = v.get("next_page").is_some() && v["items"].as_array().is_some_and(|a| !a.is_empty());
            out.extend(items(v));
        }
        Ok(out)
    }

    /// Looks up the people of these user names not seen before, in one search per 100.
    pub(crate) async fn learn_users(&self, names: HashSet<String>) -> AppResult<()> {
        let unknown: Vec<String> = {
            let known = self.users.lock().await;
            names.into_iter().filter(|n| !n.is_empty() && !known.contains_key(n)).collect()
        };
        for batch in unknown.chunks(100) {
            let filter = json!([{"field": "Name", "operator": "IN", "value": batch}]);
            let q = [("fields", "Name,EmailAddress,RealName".to_owned())];
            let found = self.search_all("/users", &q, Some(&filter), "Personen").await?;
            let mut users = self.users.lock().await;
            for v in &found {
                let u = user_of(v);
                users.insert(u.login.clone(), u);
            }
            // Not found (disabled, or not visible): known by name only.
            for n in batch {
                users.entry(n.clone()).or_insert_with(|| user_of(&json!({"id": n})));
            }
        }
        Ok(())
    }

    /// A person by RT user name (after [`Client::learn_users`]).
    pub(crate) async fn user(&self, name: &str) -> SourceUser {
        match self.users.lock().await.get(name) {
            Some(u) => u.clone(),
            None => user_of(&json!({"id": name})),
        }
    }

    /// A user's or queue's name by RT id (history values name them by id).
    pub(crate) async fn name_of(&self, kind: &str, id: &str) -> String {
        if id.is_empty() || id == "0" {
            return "niemand".into();
        }
        let key = format!("{kind}/{id}");
        if let Some(n) = self.names.lock().await.get(&key) {
            return n.clone();
        }
        let name = match self.get(&format!("/{key}"), "Name").await {
            Ok(v) if kind == "user" => {
                let u = user_of(&v);
                if u.login == "Nobody" { "niemand".into() } else { u.label() }
            }
            Ok(v) => text(&v["Name"]),
            Err(_) => format!("#{id}"),
        };
        self.names.lock().await.insert(key, name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_staff() {
        let root = user_of(&json!({"id": "root", "EmailAddress": "Root@Localhost", "RealName": "Enoch Root"}));
        assert!(root.staff);
        assert_eq!(root.email, "root@localhost");
        let anna = user_of(&json!({"id": "anna@example.org", "EmailAddress": "anna@example.org"}));
        assert!(!anna.staff);
        assert!(!user_of(&json!({"id": "RT_System", "EmailAddress": ""})).staff);
        assert_eq!(user_of(&json!({"id": "Bernd@Example.org"})).email, "bernd@example.org");
    }
}
