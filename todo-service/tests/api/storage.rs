//! The storage under the API: migrations and the indexes behind every list.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use service_kit::db::DbConfig;
use service_kit::timestamp::Timestamp;
use todo_service::Settings;
use todo_service::store::TodoStore;

use crate::helpers::*;

#[tokio::test]
async fn migrating_again_is_harmless() {
    let app = TestApp::spawn().await;
    let user = app.user();
    app.seed(&user.id, 2, Timestamp::now().micros(), false)
        .await;
    let mut settings = Settings::defaults();
    settings.database_url = secrecy::SecretString::from(app.db.url.clone());
    todo_service::app::migrate(&settings)
        .await
        .expect("migrate again");
    todo_service::app::migrate(&settings)
        .await
        .expect("and again");
    assert_eq!(app.list(&user, "").await["pagination"]["total"], 2);
}

/// The plan of `query` as text.
async fn plan(db: &DatabaseConnection, query: &str) -> String {
    let backend = db.get_database_backend();
    match backend {
        DbBackend::Sqlite => {
            let sql = format!("EXPLAIN QUERY PLAN {query}");
            let rows = db
                .query_all_raw(Statement::from_string(backend, sql))
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.try_get::<String>("", "detail").unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        }
        DbBackend::Postgres => {
            // Fresh statistics, and no sequential scan (on a test-sized table it would win), in
            // this transaction only: which index can the planner use?
            let txn = db.begin().await.unwrap();
            txn.execute_unprepared("ANALYZE todos").await.unwrap();
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .unwrap();
            let rows = txn
                .query_all_raw(Statement::from_string(backend, format!("EXPLAIN {query}")))
                .await
                .unwrap();
            txn.rollback().await.unwrap();
            rows.iter()
                .map(|r| r.try_get::<String>("", "QUERY PLAN").unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        }
        other => panic!("unexpected backend {other:?}"),
    }
}

/// Lists read a page from an index in order, with no sort of the matching rows: a user with
/// 100,000 todos pages as fast as one with ten.
#[tokio::test]
async fn lists_are_read_from_their_index_without_sorting() {
    let app = TestApp::spawn().await;
    app.seed("heavy", 500, Timestamp::now().micros(), false)
        .await;
    app.seed("light", 3, Timestamp::now().micros(), false).await;
    let store: TodoStore = app.store().await;
    let db = store.connection();

    let own = plan(
        db,
        "SELECT * FROM todos WHERE user_id = 'heavy' \
         ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 40",
    )
    .await;
    assert!(own.contains("todos_user_created_id"), "{own}");
    assert!(
        !own.contains("TEMP B-TREE") && !own.contains("Sort"),
        "{own}"
    );

    let all = plan(
        db,
        "SELECT * FROM todos ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 40",
    )
    .await;
    assert!(all.contains("todos_created_id"), "{all}");
    assert!(
        !all.contains("TEMP B-TREE") && !all.contains("Sort"),
        "{all}"
    );
}

#[tokio::test]
async fn the_embedded_default_creates_its_directory() {
    let dir = tempfile_dir();
    let url = format!("sqlite://{}/nested/dir/todo.db?mode=rwc", dir.display());
    let mut settings = Settings::defaults();
    settings.database_url = secrecy::SecretString::from(url.clone());
    todo_service::app::migrate(&settings)
        .await
        .expect("migrate");
    let db = service_kit::db::connect(&DbConfig::new(url)).await.unwrap();
    let store = TodoStore::new(db);
    assert_eq!(store.report().await.unwrap().todos, 0);
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("todo-service-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
