//! Checking, before anything is preloaded, that a file is kmview's library of this crate's own
//! version: an ELF shared object whose dynamic symbol `kmview_library_version` holds
//! `kmview <version>`. Another library (or an executable) given as `KMVIEW_LIB` would run the
//! command with no view at all; the loader would only print a warning. Used by the launcher and
//! by [`crate::ViewBuilder`].

use std::path::Path;

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

/// The 32 bytes the library's `kmview_library_version` symbol holds, if it is an ELF64 shared
/// object that exports one.
fn version_of(elf: &[u8]) -> Option<&[u8]> {
    if elf.get(..4)? != b"\x7fELF" || *elf.get(4)? != 2 || u16_at(elf, 16)? != 3 {
        return None;
    }
    let (shoff, shentsize, shnum) = (u64_at(elf, 40)? as usize, u16_at(elf, 58)? as usize, u16_at(elf, 60)? as usize);
    let section = |i: usize| -> Option<(u32, u64, u64, u64, u32)> {
        let o = shoff + i * shentsize;
        // sh_type, sh_addr, sh_offset, sh_size, sh_link
        Some((u32_at(elf, o + 4)?, u64_at(elf, o + 16)?, u64_at(elf, o + 24)?, u64_at(elf, o + 32)?, u32_at(elf, o + 40)?))
    };
    const SHT_DYNSYM: u32 = 11;
    let (_, _, symoff, symsize, strndx) = (0..shnum).filter_map(section).find(|s| s.0 == SHT_DYNSYM)?;
    let (_, _, stroff, strsize, _) = section(strndx as usize)?;
    let strtab = elf.get(stroff as usize..(stroff + strsize) as usize)?;
    for k in 0..(symsize / 24) as usize {
        let o = symoff as usize + k * 24;
        let name_off = u32_at(elf, o)? as usize;
        let name = strtab.get(name_off..)?;
        let name = &name[..name.iter().position(|&b| b == 0)?];
        if name != b"kmview_library_version" || u16_at(elf, o + 6)? == 0 {
            continue;
        }
        let value = u64_at(elf, o + 8)?;
        // The symbol's section says where its bytes lie in the file.
        let shndx = u16_at(elf, o + 6)? as usize;
        let (_, addr, off, _, _) = section(shndx)?;
        let at = (value - addr + off) as usize;
        return elf.get(at..at + 32);
    }
    None
}

/// `Err(why)` unless `lib` is kmview's library of this launcher's version.
pub fn check(lib: &Path) -> Result<(), String> {
    let want = format!("kmview {}", env!("CARGO_PKG_VERSION"));
    let bytes = std::fs::read(lib).map_err(|e| e.to_string())?;
    match version_of(&bytes) {
        None => Err("is not kmview's library".into()),
        Some(v) => {
            let got = &v[..v.iter().position(|&b| b == 0).unwrap_or(v.len())];
            if got == want.as_bytes() {
                Ok(())
            } else {
                Err(format!("is {}, not {want}", String::from_utf8_lossy(got)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_the_library_is_refused() {
        // This test's own executable is an ELF file, but no shared object exporting the version.
        let exe = std::env::current_exe().unwrap();
        assert_eq!(check(&exe), Err("is not kmview's library".to_string()));
        assert!(check(Path::new("/no/such/libkmview.so")).unwrap_err().contains("No such file"));
    }

    #[test]
    fn version_of_reads_nothing_from_garbage() {
        assert_eq!(version_of(b"\x7fELF"), None);
        assert_eq!(version_of(&[0u8; 128]), None);
    }
}
