//! Configuration: defaults in code → optional TOML file → `LOGBUCH__…`
//! environment variables; and the declarative federation file.
//!
//! Unknown keys are an error so a typo never silently falls back to a default.

mod federation;
mod settings;

pub use federation::{
    EMBEDDED_FEDERATION, Federation, FieldKind, FieldSpec, GroupMapping, ImapSecurity, MailboxSpec, ProcessSpec,
    QueueSpec, ResolvedProcess, ResolvedStep, ResolvedTopic, StepSpec, TenantSpec, TopicSpec, builtin_processes,
    business_minutes, parse_duration,
};
pub use settings::{
    DatabaseSettings, IntakeSettings, LimitSettings, OutgoingSettings, PortalSettings, RedisSettings, ServerSettings,
    Settings, SmtpSecurity, SmtpSettings,
};

/// Configuration could not be read; the message names the file and key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid configuration in {origin}: {message}")]
    Invalid { origin: String, message: String },
}
