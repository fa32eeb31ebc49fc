//! The library this `kmview` carries inside itself (launcher/build.rs embeds it into a binary
//! built by `cargo install`), for when none is found the usual ways: unpacked once into a
//! per-user cache, `$XDG_CACHE_HOME/kmview/KEY/libkmview.so` (else `$HOME/.cache/kmview/...`),
//! KEY a hash of its bytes.
//!
//! The cached file is compared byte for byte with the embedded copy at every start (1.3 MB read
//! and compared: about 0.2 ms; no hash of the file, which would read it all the same), so a
//! truncated, edited or foreign file there is never preloaded: it is replaced. Written whole to
//! a temporary file and renamed into place, never rewritten in place: a process of a running
//! view keeps the file it mapped, and two `kmview` starting at once each rename a whole copy.

use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

mod blob {
    include!(concat!(env!("OUT_DIR"), "/embedded_lib.rs"));
}

/// The library to preload: [`kmview_api::find_library`]'s (`$KMVIEW_LIB`, beside this
/// executable, the installed layouts), else the embedded one, unpacked. `Err` is a one-line
/// message.
pub fn library() -> Result<PathBuf, String> {
    if let Some(lib) = kmview_api::find_library() {
        return Ok(lib);
    }
    match blob::LIBRARY {
        Some(bytes) => unpacked(bytes, blob::KEY),
        None => Err(format!("cannot find {} beside this executable (set KMVIEW_LIB)", kmview_api::LIB_NAME)),
    }
}

/// The per-user cache directory: `$XDG_CACHE_HOME` if absolute (the XDG rule), else
/// `$HOME/.cache`.
fn cache_home() -> Option<PathBuf> {
    let abs = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    std::env::var_os("XDG_CACHE_HOME").and_then(abs).or_else(|| std::env::var_os("HOME").and_then(abs).map(|h| h.join(".cache")))
}

fn shown(p: &Path) -> String {
    let mut v = Vec::new();
    kmview_api::env::escape_for_message(&mut v, p.as_os_str().as_bytes());
    String::from_utf8_lossy(&v).into_owned()
}

/// Whether `path` holds exactly `bytes`: read through a small buffer (a buffer the library's
/// size would cost a page fault per 4 KiB, most of the check's time).
fn holds(path: &Path, bytes: &[u8]) -> bool {
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    match f.metadata() {
        Ok(m) if m.is_file() && m.len() == bytes.len() as u64 => {}
        _ => return false,
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = 0;
    loop {
        match f.read(&mut buf) {
            Ok(0) => return at == bytes.len(),
            Ok(n) if bytes.get(at..at + n) == Some(&buf[..n]) => at += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            _ => return false,
        }
    }
}

fn unpacked(bytes: &[u8], key: &str) -> Result<PathBuf, String> {
    let Some(cache) = cache_home() else {
        return Err(format!(
            "cannot unpack its {}: neither XDG_CACHE_HOME nor HOME is set to an absolute path (set one, or KMVIEW_LIB)",
            kmview_api::LIB_NAME
        ));
    };
    let dir = cache.join("kmview").join(key);
    let lib = dir.join(kmview_api::LIB_NAME);
    if holds(&lib, bytes) {
        return Ok(lib);
    }
    write(&dir, &lib, bytes).map_err(|e| {
        format!(
            "cannot unpack its {} into {}: {} (set XDG_CACHE_HOME to a writable directory, or KMVIEW_LIB to a libkmview.so)",
            kmview_api::LIB_NAME,
            shown(&dir),
            crate::run::io_reason(&e)
        )
    })?;
    Ok(lib)
}

/// `bytes` into `lib` (in `dir`, made if missing), mode 0755: a temporary file beside it, then
/// a rename.
fn write(dir: &Path, lib: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o755).create(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", kmview_api::LIB_NAME, std::process::id()));
    // A leftover of a process of the same id that died half-way.
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o755).open(&tmp)?;
        f.write_all(bytes)?;
        // The mode whatever the umask.
        f.set_permissions(std::fs::Permissions::from_mode(0o755))?;
        drop(f);
        std::fs::rename(&tmp, lib)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kmview-embedded-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn write_then_holds_and_a_changed_byte_is_seen() {
        let d = scratch("write");
        let lib = d.join("k/libkmview.so");
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
        assert!(!holds(&lib, &bytes));
        write(&d.join("k"), &lib, &bytes).unwrap();
        assert!(holds(&lib, &bytes));
        assert_eq!(std::fs::metadata(&lib).unwrap().permissions().mode() & 0o777, 0o755);
        let mut other = bytes.clone();
        other[5000] ^= 1;
        assert!(!holds(&lib, &other));
        assert!(!holds(&lib, &bytes[1..]));
        // Nothing left behind but the library.
        assert_eq!(std::fs::read_dir(d.join("k")).unwrap().count(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_unwritable_place_is_an_error_and_leaves_nothing() {
        let d = scratch("unwritable");
        std::fs::write(d.join("file"), b"").unwrap();
        let dir = d.join("file/k");
        assert!(write(&dir, &dir.join("libkmview.so"), b"x").is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
