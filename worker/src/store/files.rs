//! The store's files are readable by the worker's user alone: they hold the inventory of every
//! customer account, and sealed secrets (whose only protection left is the key) once copied.
//!
//! The database is created 0600 before SQLite opens it, and SQLite gives the files it adds next
//! to it the database's permissions (see [`prepare`]). A store created by an older version, or
//! by hand, with looser permissions is tightened on open, with a warning naming the file.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Owner read and write, nothing for group and others.
#[cfg(unix)]
const PRIVATE: u32 = 0o600;

/// Makes the database at `db` private before SQLite opens it: creates it empty with mode 0600
/// when it does not exist yet, and tightens it and its `-wal` and `-shm` files when they exist
/// and group or others may read them.
///
/// SQLite's unix VFS creates the `-wal` file with the database file's permissions
/// (`findCreateFileMode` in `src/os_unix.c`) and the `-shm` file likewise
/// (`unixOpenSharedMemory`), and `robust_open` applies that mode with `fchmod` to the new, empty
/// file, so the process's umask does not loosen it. Checked against SQLite 3.54.1, the version
/// `rusqlite`'s bundled build compiles; the tests below pin the behaviour under umask 0 and 022.
pub(super) fn prepare(db: &Path) -> Result<()> {
    create_private(db).with_context(|| format!("creating the store {}", db.display()))?;
    for path in [db.to_owned(), sibling(db, "-wal"), sibling(db, "-shm")] {
        tighten(&path)?;
    }
    Ok(())
}

/// Opens (creating if needed) the store's lock file, private like the store.
pub(super) fn open_lock(lock: &Path) -> Result<File> {
    let mut options = File::options();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE);
    let file =
        options.open(lock).with_context(|| format!("opening the store's lock file {}", lock.display()))?;
    tighten(lock)?;
    Ok(file)
}

fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    db.with_file_name(name)
}

#[cfg(unix)]
fn create_private(db: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    // create_new: a file that appeared meanwhile is left alone (and tightened below); an empty
    // file is a valid empty database to SQLite.
    match File::options().write(true).create_new(true).mode(PRIVATE).open(db) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(unix))]
fn create_private(_db: &Path) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn tighten(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            "the store's file was readable by other users (mode {mode:o}); setting it to 600"
        );
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE))
            .with_context(|| format!("making {} private (chmod 600)", path.display()))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::store::Store;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// Opens a store in `dir`, writes to it, and checks every file while the store is open (the
    /// -wal and -shm files go away on a clean close).
    fn open_write_and_check(dir: &Path) {
        let db = dir.join("inventory.db");
        let store = Store::open(&db).unwrap();
        store.db.execute("CREATE TABLE t (x)", crate::store::sql::params![]).unwrap();
        store.db.execute("INSERT INTO t VALUES (1)", crate::store::sql::params![]).unwrap();
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let path = sibling(&db, suffix);
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }

    #[test]
    fn a_new_store_and_its_wal_are_private() {
        let dir = tempfile::tempdir().unwrap();
        open_write_and_check(dir.path());
    }

    /// The same, in a child process whose umask would make SQLite's own files world-writable.
    #[test]
    fn a_new_store_is_private_whatever_the_umask() {
        for umask in ["000", "022"] {
            let dir = tempfile::tempdir().unwrap();
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
                .arg(std::env::current_exe().unwrap())
                .args(["--exact", "store::files::tests::child_store_under_umask", "--nocapture"])
                .env(CHILD_DIR, dir.path())
                .output()
                .unwrap();
            let all =
                format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(out.status.success(), "umask {umask}: {all}");
            assert!(all.contains("child checked"), "the child test ran: {all}");
        }
    }

    const CHILD_DIR: &str = "TRUSTLINE_TEST_FILES_CHILD_DIR";

    /// Runs only as the child of the test above.
    #[test]
    fn child_store_under_umask() {
        if let Some(dir) = std::env::var_os(CHILD_DIR) {
            open_write_and_check(Path::new(&dir));
            #[allow(clippy::print_stdout)]
            {
                println!("child checked");
            }
        }
    }

    #[test]
    fn a_store_others_can_read_is_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("old.db");
        drop(Store::open(&db).unwrap());
        for suffix in ["", ".lock"] {
            std::fs::set_permissions(sibling(&db, suffix), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        drop(Store::open(&db).unwrap());
        assert_eq!((mode(&db), mode(&sibling(&db, ".lock"))), (0o600, 0o600));
    }
}
