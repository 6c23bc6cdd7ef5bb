//! Login through the organisation's OpenID Connect provider: authorization
//! code flow with PKCE, state and nonce; the ID token is verified, the groups
//! come from the userinfo endpoint. Every login maps the groups to roles
//! through the federation file and removes the SSO roles the provider no
//! longer vouches for; a first login provisions the person. The session is
//! server-side: the browser holds a random token, the database its hash.

use crate::auth::hash_token;
use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_store::sessions;
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGenderClaim, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadata, RedirectUrl, Scope, TokenResponse,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

/// A login must come back from the provider within this time.
const LOGIN_TIMEOUT_MINUTES: i64 = 10;

/// How long session rechecks reuse the provider's discovery document.
/// Logins always discover afresh (they need the current signing keys).
const DISCOVERY_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// The provider's metadata as last discovered, for session rechecks.
#[derive(Debug, Default)]
pub(crate) struct ProviderCache(std::sync::Mutex<Option<(std::time::Instant, Metadata)>>);

#[derive(Clone, Debug, Deserialize, Serialize)]
struct LogoutMetadata {
    end_session_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for LogoutMetadata {}

type Metadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A client from discovery: authorization endpoint set, token and userinfo maybe.
type LoginClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct Groups {
    #[serde(default)]
    groups: Vec<String>,
}
impl AdditionalClaims for Groups {}

/// A browser session just opened: the cookie value and where to go.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub return_to: String,
}

/// A session that is still valid, with its person and CSRF token.
#[derive(Debug, Clone)]
pub struct SessionPrincipal {
    pub principal: Principal,
    pub csrf: String,
}

fn sso_error(what: &str, e: impl std::fmt::Display) -> AppError {
    // The provider's answer may name the person: only the kind of failure is kept.
    tracing::warn!(error = %e, "SSO: {what}");
    AppError::Unauthenticated
}

/// Only paths on this site are followed after login (no open redirect).
fn local_path(p: Option<&str>) -> String {
    match p {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".to_owned(),
    }
}

/// What the provider says about a session's person.
enum Vouch {
    /// Still known, with these groups.
    Groups(Vec<String>),
    /// The token is refused: the person is gone, or the session was ended there.
    Refused,
    /// No answer (network, server error): ask again later.
    Unreachable(String),
}

/// Makes a person's SSO roles those the federation file maps their groups to.
async fn sync_groups(db: &impl sea_orm::ConnectionTrait, user_id: i64, groups: &[String]) -> AppResult<(usize, usize)> {
    let wanted: Vec<(String, Option<i64>, Option<i64>)> =
        sessions::mappings_for(db, groups).await?.into_iter().map(|m| (m.role, m.tenant_id, m.queue_id)).collect();
    Ok(sessions::sync_sso_roles(db, user_id, &wanted).await?)
}

impl Logbuch {
    fn http_client(&self) -> AppResult<openidconnect::reqwest::Client> {
        openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| AppError::Internal(e.into()))
    }

    async fn provider(&self) -> AppResult<(Metadata, openidconnect::reqwest::Client)> {
        let issuer = self.settings.oidc.issuer.as_deref().ok_or_else(|| {
            AppError::NotFound("Anmeldung über die Partei ist nicht eingerichtet ([oidc] issuer).".into())
        })?;
        let http = self.http_client()?;
        let issuer = IssuerUrl::new(issuer.to_owned()).map_err(|e| AppError::Internal(e.into()))?;
        let meta = Metadata::discover_async(issuer, &http).await.map_err(|e| {
            tracing::error!(error = %e, "SSO: provider discovery failed");
            AppError::Internal(anyhow::anyhow!("Der Anmeldedienst antwortet nicht."))
        })?;
        Ok((meta, http))
    }

    fn redirect_url(&self) -> AppResult<RedirectUrl> {
        let base = self.settings.server.public_url.trim_end_matches('/');
        RedirectUrl::new(format!("{base}/auth/callback")).map_err(|e| AppError::Internal(e.into()))
    }

    /// The provider's client for this installation (discovered afresh: logins are rare).
    async fn client(&self) -> AppResult<(LoginClient, openidconnect::reqwest::Client)> {
        let (meta, http) = self.provider().await?;
        if let Ok(mut cached) = self.discovery.0.lock() {
            *cached = Some((std::time::Instant::now(), meta.clone()));
        }
        self.client_from(meta, http)
    }

    /// As [`Logbuch::client`], from the discovery of the last ten minutes
    /// where there is one: every open session asks the provider again often.
    async fn recheck_client(&self) -> AppResult<(LoginClient, openidconnect::reqwest::Client)> {
        let cached = self.discovery.0.lock().ok().and_then(|c| c.clone());
        match cached {
            Some((at, meta)) if at.elapsed() < DISCOVERY_TTL => self.client_from(meta, self.http_client()?),
            _ => self.client().await,
        }
    }

    fn client_from(
        &self,
        meta: Metadata,
        http: openidconnect::reqwest::Client,
    ) -> AppResult<(LoginClient, openidconnect::reqwest::Client)> {
        let cfg = &self.settings.oidc;
        let client = CoreClient::from_provider_metadata(
            meta,
            ClientId::new(cfg.client_id.clone()),
            cfg.client_secret.as_ref().map(|s| ClientSecret::new(s.expose_secret().to_owned())),
        )
        .set_redirect_uri(self.redirect_url()?);
        Ok((client, http))
    }

    /// Starts a login: where to send the browser, and the state to bind to it.
    pub async fn begin_login(&self, return_to: Option<&str>) -> AppResult<(String, String)> {
        let (client, _) = self.client().await?;
        let cfg = &self.settings.oidc;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for s in cfg.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = request.url();
        sessions::insert_pending(
            &self.store.db,
            state.secret(),
            nonce.secret(),
            verifier.secret(),
            &local_path(return_to),
        )
        .await?;
        Ok((url.to_string(), state.secret().clone()))
    }

    /// Finishes a login: verifies what the provider sent, provisions the
    /// person, syncs their roles and opens a session.
    pub async fn finish_login(&self, code: &str, state: &str) -> AppResult<NewSession> {
        let db = &self.store.db;
        let pending = sessions::take_pending(db, state, chrono::Duration::minutes(LOGIN_TIMEOUT_MINUTES))
            .await?
            .ok_or_else(|| AppError::validation("state", "Diese Anmeldung ist abgelaufen. Bitte neu anmelden."))?;
        let (client, http) = self.client().await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| sso_error("no token endpoint", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&http)
            .await
            .map_err(|e| sso_error("code exchange failed", e))?;
        let id_token = tokens.id_token().ok_or_else(|| sso_error("no ID token", "missing"))?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(pending.nonce.clone()))
            .map_err(|e| sso_error("ID token rejected", e))?;
        let subject = claims.subject().as_str().to_owned();
        let info: openidconnect::UserInfoClaims<Groups, CoreGenderClaim> = client
            .user_info(tokens.access_token().clone(), None)
            .map_err(|e| sso_error("no userinfo endpoint", e))?
            .request_async(&http)
            .await
            .map_err(|e| sso_error("userinfo failed", e))?;
        if info.subject().as_str() != subject {
            return Err(sso_error("userinfo names another subject", "mismatch"));
        }
        let email = info
            .email()
            .or(claims.email())
            .map(|e| e.as_str().trim().to_lowercase())
            .filter(|e| e.contains('@'))
            .ok_or_else(|| AppError::validation("email", "Der Anmeldedienst nennt keine Mailadresse."))?;
        let name =
            info.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()).unwrap_or_else(|| email.clone());
        let groups = info.additional_claims().groups.clone();

        let txn = sea_orm::TransactionTrait::begin(db).await?;
        let user = match sessions::find_user_by_subject(&txn, &subject).await? {
            Some(u) => u,
            // First login: a person the admins created by address is linked, else provisioned.
            None => match logbuch_store::users::find_user_by_email(&txn, &email).await? {
                Some(u) if u.subject.is_none() => u,
                Some(_) => {
                    return Err(AppError::Conflict("Diese Mailadresse gehört schon einem anderen Konto.".into()));
                }
                None => logbuch_store::users::insert_user(&txn, &email, &name, Some(&subject)).await?,
            },
        };
        if !user.active {
            return Err(AppError::Forbidden("Dieses Konto ist gesperrt.".into()));
        }
        let user = sessions::link_subject(&txn, user, &subject, &name).await?;
        let (added, removed) = sync_groups(&txn, user.id, &groups).await?;
        let token = crate::auth::generate_token();
        let csrf = crate::auth::generate_token();
        let provider = sessions::ProviderTokens {
            id_token: id_token.to_string(),
            access_token: tokens.access_token().secret().clone(),
            refresh_token: tokens.refresh_token().map(|r| r.secret().clone()),
        };
        sessions::insert_session(&txn, &hash_token(&token), user.id, &csrf, Some(provider)).await?;
        txn.commit().await?;
        self.principals.changed();
        tracing::info!(user = user.id, roles_added = added, roles_removed = removed, "SSO login");
        Ok(NewSession { token, return_to: pending.return_to })
    }

    /// A one-time login link for a person (the bootstrap admin's way in
    /// when no identity provider is configured): the token for `/auth/link/{token}`.
    pub async fn create_login_link(&self, user_id: i64) -> AppResult<String> {
        let token = crate::auth::generate_token();
        let expires = logbuch_store::now() + chrono::Duration::hours(24);
        sessions::insert_login_link(&self.store.db, &hash_token(&token), user_id, expires).await?;
        Ok(token)
    }

    /// Uses a login link once and opens a session.
    pub async fn use_login_link(&self, token: &str) -> AppResult<NewSession> {
        let db = &self.store.db;
        let user = sessions::take_login_link(db, &hash_token(token.trim()))
            .await?
            .ok_or_else(|| AppError::validation("link", "Dieser Anmeldelink ist verbraucht oder abgelaufen."))?;
        let session = crate::auth::generate_token();
        let csrf = crate::auth::generate_token();
        sessions::insert_session(db, &hash_token(&session), user, &csrf, None).await?;
        Ok(NewSession { token: session, return_to: "/".into() })
    }

    /// The person behind a session cookie, if the session is still valid
    /// (idle and absolute timeouts).
    pub async fn authenticate_session(&self, token: &str) -> AppResult<SessionPrincipal> {
        let db = &self.store.db;
        let hash = hash_token(token.trim());
        let s = sessions::find_session(db, &hash).await?.ok_or(AppError::Unauthenticated)?;
        let now = logbuch_store::now();
        let cfg = &self.settings.oidc;
        if now - s.last_seen_at > chrono::Duration::minutes(cfg.idle_minutes)
            || now - s.created_at > chrono::Duration::hours(cfg.max_hours)
        {
            sessions::delete_session(db, &hash).await?;
            return Err(AppError::Unauthenticated);
        }
        let user = logbuch_store::users::find_user(db, s.user_id)
            .await?
            .filter(|u| u.active)
            .ok_or(AppError::Unauthenticated)?;
        let recheck_due = s.access_token.is_some()
            && s.checked_at.is_none_or(|at| now - at >= chrono::Duration::minutes(cfg.recheck_minutes));
        if recheck_due && !self.still_vouched_for(&s, user.subject.as_deref().unwrap_or_default()).await? {
            sessions::delete_session(db, &hash).await?;
            tracing::info!(user = user.id, "SSO: the provider no longer confirms this person; session ended");
            return Err(AppError::Unauthenticated);
        }
        if now - s.last_seen_at > chrono::Duration::minutes(1) {
            sessions::touch(db, &hash).await?;
        }
        Ok(SessionPrincipal { principal: self.principal_for(user).await?, csrf: s.csrf_token })
    }

    /// Asks the provider (userinfo, with the session's access token; a new
    /// access token from the refresh token when that one expired) whether it
    /// still vouches for the person: if so, their SSO roles follow the groups
    /// it names now. False when the provider refuses: then the person's SSO
    /// roles go as well (their API tokens keep only roles granted by hand).
    /// An unreachable provider keeps the session and is asked again after
    /// `recheck_minutes` (logged).
    async fn still_vouched_for(&self, s: &logbuch_store::entity::session::Model, subject: &str) -> AppResult<bool> {
        let Some(access) = s.access_token.clone() else { return Ok(true) };
        let db = &self.store.db;
        let unreachable = |what: &str, e: &dyn std::fmt::Display| {
            tracing::warn!(error = %e, "SSO: {what}; the session stays and is checked again later");
        };
        let (client, http) = match self.recheck_client().await {
            Ok(c) => c,
            Err(e) => {
                unreachable("provider discovery failed", &e);
                sessions::mark_checked(db, &s.token_hash, None).await?;
                return Ok(true);
            }
        };
        let mut renewed = None;
        let mut answer = self.userinfo(&client, &http, access, subject).await;
        if matches!(answer, Vouch::Refused)
            && let Some(refresh) = s.refresh_token.clone()
        {
            // The access token may just have expired: a fresh one decides.
            let refresh = openidconnect::RefreshToken::new(refresh);
            let request = client.exchange_refresh_token(&refresh);
            match request.map(|r| r.request_async(&http)) {
                Ok(fut) => match fut.await {
                    Ok(tokens) => {
                        let access = tokens.access_token().secret().clone();
                        renewed = Some((access.clone(), tokens.refresh_token().map(|r| r.secret().clone())));
                        answer = self.userinfo(&client, &http, access, subject).await;
                    }
                    Err(openidconnect::RequestTokenError::ServerResponse(_)) => answer = Vouch::Refused,
                    Err(e) => answer = Vouch::Unreachable(e.to_string()),
                },
                Err(e) => answer = Vouch::Unreachable(e.to_string()),
            }
        }
        match answer {
            Vouch::Groups(groups) => {
                let txn = sea_orm::TransactionTrait::begin(db).await?;
                let (added, removed) = sync_groups(&txn, s.user_id, &groups).await?;
                sessions::mark_checked(&txn, &s.token_hash, renewed).await?;
                txn.commit().await?;
                if added + removed > 0 {
                    self.principals.changed();
                    tracing::info!(
                        user = s.user_id,
                        roles_added = added,
                        roles_removed = removed,
                        "SSO: roles follow the provider"
                    );
                }
                Ok(true)
            }
            Vouch::Refused => {
                sync_groups(db, s.user_id, &[]).await?;
                self.principals.changed();
                Ok(false)
            }
            Vouch::Unreachable(e) => {
                unreachable("provider did not answer", &e);
                sessions::mark_checked(db, &s.token_hash, renewed).await?;
                Ok(true)
            }
        }
    }

    /// The provider's userinfo for an access token, as a verdict.
    async fn userinfo(
        &self,
        client: &LoginClient,
        http: &openidconnect::reqwest::Client,
        access: String,
        subject: &str,
    ) -> Vouch {
        let request = match client.user_info(
            openidconnect::AccessToken::new(access),
            Some(openidconnect::SubjectIdentifier::new(subject.into())),
        ) {
            Ok(r) => r,
            Err(e) => return Vouch::Unreachable(format!("no userinfo endpoint: {e}")),
        };
        let answer: Result<openidconnect::UserInfoClaims<Groups, CoreGenderClaim>, _> =
            request.request_async(http).await;
        match answer {
            Ok(info) => Vouch::Groups(info.additional_claims().groups.clone()),
            // An invalid or expired token (RFC 6750: 401; some providers say 400 or 403).
            Err(openidconnect::UserInfoError::Response(status, ..)) if [400, 401, 403].contains(&status.as_u16()) => {
                Vouch::Refused
            }
            // Another person's claims for this token.
            Err(openidconnect::UserInfoError::ClaimsVerification(_)) => Vouch::Refused,
            Err(e) => Vouch::Unreachable(e.to_string()),
        }
    }

    /// Ends a session; returns where to send the browser (the provider's
    /// logout when it offers one, else the start page).
    pub async fn logout(&self, token: &str) -> AppResult<String> {
        let ended = sessions::delete_session(&self.store.db, &hash_token(token.trim())).await?;
        let home = format!("{}/", self.settings.server.public_url.trim_end_matches('/'));
        let Ok((meta, _)) = self.provider().await else { return Ok(home) };
        let Some(end) = meta.additional_metadata().end_session_endpoint.clone() else { return Ok(home) };
        let mut url = openidconnect::url::Url::parse(&end).map_err(|e| AppError::Internal(e.into()))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &self.settings.oidc.client_id);
            q.append_pair("post_logout_redirect_uri", &home);
            if let Some(id) = ended.and_then(|s| s.id_token) {
                q.append_pair("id_token_hint", &id);
            }
        }
        Ok(url.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_after_login() {
        assert_eq!(local_path(Some("/tickets/5")), "/tickets/5");
        assert_eq!(local_path(Some("//evil.example/x")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }
}
