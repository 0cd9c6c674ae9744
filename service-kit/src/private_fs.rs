//! Files that hold secrets or personal data (the SQLite databases, the development
//! key-encryption key) are created readable by their owner only — mode 0600, directories
//! 0700 — whatever the process's umask: a umask only ever removes permission bits.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Creates `dir` and its missing parents with mode 0700; existing ones are left as they are.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)
}

/// Creates `path` (which must not exist) with mode 0600, and its directory if missing.
pub fn create_new_file(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir_all(dir)?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)
}

/// Whether `path` grants any permission to its group or to others.
pub fn is_exposed(path: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        Ok(std::fs::metadata(path)?.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path).map(|_| false)
    }
}

/// Logs a warning when an existing `path` that holds `what` is readable beyond its owner.
pub fn warn_if_exposed(path: &Path, what: &str) {
    if is_exposed(path).unwrap_or(false) {
        tracing::warn!(
            path = %path.display(),
            "{what} is accessible to other users of this machine: chmod 600 it"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn new_files_and_directories_are_owner_only() {
        let root = tempfile_dir();
        let file = root.join("a/b/secret");
        create_new_file(&file).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&root.join("a")), 0o700);
        assert_eq!(mode(&root.join("a/b")), 0o700);
        assert!(!is_exposed(&file).unwrap());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(is_exposed(&file).unwrap());
        assert!(
            create_new_file(&file).is_err(),
            "an existing file is never replaced"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("private-fs-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        dir
    }
}
