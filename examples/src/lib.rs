//! What the three examples share: a scratch directory and a one-line exit on error. Each
//! example is one file in `src/bin/`; read it from the top.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A fresh directory in `$TMPDIR`, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> std::io::Result<TempDir> {
        let base = std::env::temp_dir().canonicalize()?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let dir = base.join(format!("kmview-example-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir)?;
        Ok(TempDir(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `body`, printing its error as one line (`NAME: error`) with exit status 1.
pub fn main_with(name: &str, body: impl FnOnce() -> Result<ExitCode, Box<dyn std::error::Error>>) -> ExitCode {
    match body() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::from(1)
        }
    }
}

/// The exit status a child's status stands for (128 + N for a signal, as a shell says it).
pub fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    ExitCode::from(status.code().or(status.signal().map(|s| 128 + s)).unwrap_or(1) as u8)
}
