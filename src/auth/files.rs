//! Secret files: written with mode 0600 from the first byte, and refused when group or others
//! can read them; the data directory that holds them is created 0700.

use std::io::Write;
use std::path::Path;

/// Writes `contents` to a new file readable by its owner only (created 0600, never chmod-ed
/// after the fact, so no other user can open it in between).
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Creates the data directory `dir` (and its missing parents) for its owner only (0700): it
/// holds the embedded database with its password hashes, and the generated keys. One that
/// exists already is left as it is — it may be an operator's choice — but reported when group
/// or others may read it.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                "TRADESAGE_DATA_DIR {} is open to group or others (mode {mode:o}) and holds password hashes \
                 and keys; run `chmod 700 {}`",
                dir.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// Reads a secret file, refusing one that group or others may read.
pub fn read_private(path: &Path) -> Result<Vec<u8>, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} is readable by group or others (mode {mode:o}); run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}
