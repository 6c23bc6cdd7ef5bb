//! The federation file is applied idempotently and changes follow the file.

use logbuch_config::Federation;
use logbuch_core::admin;
use logbuch_tests::{Backend, both, spawn_app};

async fn apply_is_idempotent_and_follows_the_file(backend: Backend) {
    let t = spawn_app(backend).await;
    let fed = Federation::embedded().unwrap();
    let again = admin::apply_federation(&t.app, &fed).await.unwrap();
    assert_eq!((again.tenants_created, again.queues_created, again.queues_updated), (0, 0, 0), "{again:?}");
    let tenants = logbuch_store::tenants::list_tenants(&t.app.store.db).await.unwrap();
    assert_eq!(tenants.len(), 17);

    // Change one queue, move one address, drop one queue from the file.
    let text = logbuch_config::EMBEDDED_FEDERATION
        .replace("name = \"Presse\"\naddresses = [\"presse@piratenpartei-nrw.de\", \"presse-nw@piratenpartei.de\"]", "name = \"Presse NRW\"\naddresses = [\"presse@piratenpartei-nrw.de\"]")
        .replace("[[tenant.queue]]\nslug = \"ag-aachen\"\nname = \"AG Aachen\"\naddresses = [\"aachen@piratenpartei-nrw.de\"]\ndefault_priority = \"low\"\nfirst_response = \"7d\"\n", "");
    let changed = Federation::parse(&text, "test").unwrap();
    let report = admin::apply_federation(&t.app, &changed).await.unwrap();
    assert_eq!(report.queues_updated, 1, "{report:?}");
    assert_eq!(report.queues_not_in_file, vec!["nw/ag-aachen".to_owned()]);
    let nw = logbuch_store::tenants::find_tenant_by_code(&t.app.store.db, "nw").await.unwrap().unwrap();
    let presse = logbuch_store::tenants::find_queue_by_slug(&t.app.store.db, nw.id, "presse").await.unwrap().unwrap();
    assert_eq!(presse.name, "Presse NRW");
    assert_eq!(
        logbuch_store::tenants::queue_addresses(&t.app.store.db, presse.id).await.unwrap(),
        vec!["presse@piratenpartei-nrw.de".to_owned()]
    );
}

both!(apply_is_idempotent_and_follows_the_file);
