//! The one integration test binary: real HTTP, real SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_errors;
mod attachments;
mod bounce_corpus;
mod browser;
mod crash;
mod federation;
mod history;
mod imap;
mod import_redmine;
mod import_rt;
mod intake;
mod isolation;
mod jobs;
mod lists;
mod metrics;
mod openpgp;
mod outgoing;
mod pipe;
mod policy_matrix;
mod portal;
mod processes;
mod records;
mod reports;
mod requester_data;
mod retention;
mod scaling;
mod scenarios;
mod search;
mod service_times;
mod sso;
mod telemetry;
mod ui;
