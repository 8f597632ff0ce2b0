//! A store path that holds something else, or a damaged store, is refused by every command
//! before anything is written, with the path and what to do.

use std::path::Path;

use crate::tags::store_with_tagged_roles;

/// A sound store with one connection, a run and a resource, checkpointed into its main file.
fn sound_store(path: &Path) -> Vec<u8> {
    store_with_tagged_roles(path, &[("web", &[("service", "webshop")])]);
    assert!(!path.with_file_name("trustline.db-wal").exists(), "closed stores are checkpointed");
    std::fs::read(path).unwrap()
}

fn page_size(bytes: &[u8]) -> usize {
    match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        n => usize::from(n),
    }
}

#[test]
fn foreign_truncated_and_corrupted_stores_are_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let good = sound_store(&dir.path().join("good.db"));
    let page = page_size(&good);
    let mut corrupted = good.clone();
    // The second page onwards: the schema's tables, their rows and the indexes.
    for b in &mut corrupted[page..good.len() - page] {
        *b ^= 0x5a;
    }
    let foreign = {
        let path = dir.path().join("foreign.db");
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');").unwrap();
        drop(db);
        std::fs::read(&path).unwrap()
    };
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("text", b"these are my notes\n".to_vec(), "is not a Trustline store (not an SQLite database)"),
        ("foreign", foreign, "is an SQLite database of another program, not a Trustline store"),
        ("header", good[..60].to_vec(), "is truncated: 60 bytes"),
        ("truncated", good[..good.len() / 2].to_vec(), "is truncated"),
        ("corrupted", corrupted, "is damaged"),
    ];
    let commands: [&[&str]; 7] = [
        &["inventory"],
        &["accounts", "list"],
        &["accounts", "show", "acme"],
        &["export"],
        &["sync"],
        &["accounts", "add", "--id", "other", "--kind", "same-account-role"],
        &["tenants", "add", "other"],
    ];
    for (name, bytes, expect) in cases {
        let store = dir.path().join(name).join("trustline.db");
        std::fs::create_dir_all(store.parent().unwrap()).unwrap();
        std::fs::write(&store, &bytes).unwrap();
        for args in commands {
            let out = crate::trustline(&[args, &["--store", store.to_str().unwrap()]].concat());
            let err = crate::stderr_of_failure(&out);
            let want = format!("error: the store {} {expect}", store.display());
            assert!(err.starts_with(&want), "{name} {args:?}:\n{err}");
            assert!(
                err.contains("nothing was changed. Restore it from a backup, or point --store (store.path) at another file"),
                "{name} {args:?}: {err}"
            );
            assert_eq!(std::fs::read(&store).unwrap(), bytes, "{name} {args:?}: the file is unchanged");
            let beside: Vec<String> = std::fs::read_dir(store.parent().unwrap())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != "trustline.db" && n != "trustline.db.lock")
                .collect();
            assert!(beside.is_empty(), "{name} {args:?}: SQLite files created: {beside:?}");
        }
    }
    // The sound store still opens, for reading and for writing.
    let store = dir.path().join("good.db");
    crate::stdout(&crate::trustline(&["inventory", "--store", store.to_str().unwrap()]));
    crate::stdout(&crate::trustline(&["tenants", "add", "other", "--store", store.to_str().unwrap()]));
}
