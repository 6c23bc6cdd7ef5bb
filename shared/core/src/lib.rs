//! The use-case layer: every operation on Logbuch, with its authorization
//! check first. The API, the staff interface, the workers and the CLI all
//! call these and nothing below them.

pub mod absence;
pub mod admin;
pub mod audit;
pub mod auth;
mod breaches;
pub mod demo;
mod error;
mod escalation;
pub mod figures;
pub mod import;
pub mod intake;
pub mod outgoing;
pub mod pgp;
pub mod pgp_wkd;
pub mod portal;
mod processes;
pub mod reports;
pub mod requester_data;
pub mod retention;
pub mod saved_views;
pub mod sso;
pub mod templates;
pub mod tickets;
pub mod views;
pub mod workers;

pub use error::{AppError, AppResult};
pub use logbuch_authz::Principal;

use anyhow::Context;
use logbuch_authz::Authz;
use logbuch_config::{Federation, Settings};
use logbuch_jobs::{JobQueue, RedisQueue, SqlQueue};
use logbuch_store::{Store, tenants};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The application: database, authorization and settings. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Logbuch {
    pub store: Store,
    pub authz: Arc<Authz>,
    pub settings: Arc<Settings>,
    /// Jobs of the mail intake: Redis when configured, else the database.
    pub intake_queue: JobQueue,
    /// Jobs of the outbox (sending mail), on the same backend.
    pub outbox_queue: JobQueue,
    /// The SMTP relay, when one is configured.
    smtp: Option<Arc<outgoing::send_smtp::Smtp>>,
    /// Tenants, queues and addresses, read at most every few seconds.
    directory: Arc<std::sync::Mutex<Option<CachedDirectory>>>,
    /// The identity provider's discovery document, for session rechecks.
    discovery: Arc<sso::ProviderCache>,
    /// Principals of recently seen API tokens (see [`Logbuch::follow_principal_changes`]).
    principals: Arc<auth::PrincipalCache>,
    /// The key of the requester's pages (form tokens, rate-limit hashes), once read.
    portal_key: Arc<tokio::sync::OnceCell<portal::PortalKey>>,
}

/// The directory and when it was read.
type CachedDirectory = (Instant, Arc<tickets::Directory>);

/// How long the cached directory of tenants and queues is trusted. A change
/// made by another process (`logbuch admin apply`) shows within this time.
const DIRECTORY_TTL: Duration = Duration::from_secs(5);

impl Logbuch {
    /// Connects to the configured database and loads the policy.
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        if settings.is_embedded() {
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("cannot create data directory {}", settings.data_dir.display()))?;
        }
        let store = Store::connect(&settings.database_url(), settings.database.max_connections)
            .await
            .context("cannot connect to the database")?;
        let authz = Authz::new().await.context("cannot load the authorization policy")?;
        let queue = |kind: &'static str| {
            let db = store.db.clone();
            let redis = settings.redis.url.clone();
            let prefix = settings.redis.prefix.clone();
            async move {
                Ok::<_, anyhow::Error>(match redis {
                    Some(url) => JobQueue::Redis(
                        RedisQueue::connect(url.expose_secret(), &prefix, kind)
                            .await
                            .context("cannot connect to Redis")?,
                    ),
                    None => JobQueue::Sql(SqlQueue::new(db, kind)),
                })
            }
        };
        let intake_queue = queue("intake").await?;
        let outbox_queue = queue("outbox").await?;
        let smtp = outgoing::send_smtp::smtp_transport(&settings.smtp, settings.outgoing.concurrency)
            .context("SMTP settings")?
            .map(Arc::new);
        Ok(Self {
            store,
            authz: Arc::new(authz),
            settings: Arc::new(settings),
            intake_queue,
            outbox_queue,
            smtp,
            directory: Arc::default(),
            discovery: Arc::default(),
            principals: Arc::default(),
            portal_key: Arc::default(),
        })
    }

    /// Migrates the schema and applies the federation file (idempotent).
    pub async fn prepare(&self) -> anyhow::Result<tenants::ApplyReport> {
        self.store.migrate().await.context("database migration failed")?;
        let fed = self.federation()?;
        Ok(admin::apply_federation(self, &fed).await?)
    }

    /// Tenants, queues and inbound addresses (cached for a few seconds).
    pub(crate) async fn directory(&self) -> AppResult<Arc<tickets::Directory>> {
        if let Ok(guard) = self.directory.lock()
            && let Some((at, dir)) = guard.as_ref()
            && at.elapsed() < DIRECTORY_TTL
        {
            return Ok(dir.clone());
        }
        let dir = Arc::new(tickets::Directory::load(&self.store.db).await?);
        if let Ok(mut guard) = self.directory.lock() {
            *guard = Some((Instant::now(), dir.clone()));
        }
        Ok(dir)
    }

    /// Forgets the cached directory (after the federation changed).
    pub(crate) fn invalidate_directory(&self) {
        if let Ok(mut guard) = self.directory.lock() {
            *guard = None;
        }
    }

    /// The configured federation file, or the embedded example.
    pub fn federation(&self) -> anyhow::Result<Federation> {
        Ok(match &self.settings.federation_file {
            Some(path) => Federation::load(path)?,
            None => Federation::embedded()?,
        })
    }
}
