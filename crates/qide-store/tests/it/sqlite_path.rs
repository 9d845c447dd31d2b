//! SQLite-only: the database file is where `open_sqlite` was told, whatever
//! characters its path holds (a URL is built from it on the way to sqlx).

use qide_store::{SqlStore, Store};

use crate::harness::two_step_build;

#[tokio::test]
async fn open_sqlite_takes_paths_with_url_characters() {
    let root = tempfile::tempdir().unwrap();
    for dir_name in [
        "with space",
        "query?mode=ro",
        "hash#frag",
        "percent%41%2F",
        "ünï €",
    ] {
        let dir = root.path().join(dir_name);
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("qide.db");
        let store = SqlStore::open_sqlite(&path)
            .await
            .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
        let id = store.create_build(&two_step_build(1)).await.unwrap();
        store.close().await;
        assert!(path.is_file(), "{} was not created", path.display());

        let again = SqlStore::open_sqlite(&path).await.unwrap();
        assert_eq!(again.get_build(id).await.unwrap().created_at_ms, 1);
        again.close().await;
    }
}
