//! Database migrations, one file per change. Run by `logbuch migrate` and,
//! on the embedded default, at every start.

pub use sea_orm_migration::prelude::*;

mod m0001_core;
mod m0002_intake;
mod m0003_outbox;
mod m0004_templates;
mod m0005_search;
mod m0006_scale;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_core::Migration),
            Box::new(m0002_intake::Migration),
            Box::new(m0003_outbox::Migration),
            Box::new(m0004_templates::Migration),
            Box::new(m0005_search::Migration),
            Box::new(m0006_scale::Migration),
        ]
    }
}
