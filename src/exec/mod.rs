//! The pure parts of exec: reading a `#!` line and an ELF program's headers as the kernel does.
//! The exec hooks (`hooks/exec.rs`) decide with them what to start; here there is nothing but
//! bytes in and ranges out, unit-tested.

use std::ops::Range;

/// The kernel reads this much of a file for its `#!` line.
pub const HEAD: usize = 256;

/// A `#!` line: the interpreter and its one optional argument, as ranges of the head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shebang {
    pub interp: Range<usize>,
    pub arg: Option<Range<usize>>,
}

/// Parses the `#!` line at the start of `head` as the kernel does: blanks skip, the interpreter
/// up to the next blank, then everything to the end of the line (trailing blanks and a `\r`
/// dropped) as one argument.
pub fn shebang(head: &[u8]) -> Option<Shebang> {
    let head = &head[..head.len().min(HEAD)];
    if head.len() < 2 || &head[..2] != b"#!" {
        return None;
    }
    let line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let blank = |b: u8| b == b' ' || b == b'\t';
    let mut i = 2;
    while i < line_end && blank(head[i]) {
        i += 1;
    }
    let start = i;
    while i < line_end && !blank(head[i]) {
        i += 1;
    }
    if i == start {
        return None;
    }
    let interp = start..i;
    while i < line_end && blank(head[i]) {
        i += 1;
    }
    let mut arg_end = line_end;
    while arg_end > i && (blank(head[arg_end - 1]) || head[arg_end - 1] == b'\r') {
        arg_end -= 1;
    }
    Some(Shebang { interp, arg: (arg_end > i).then_some(i..arg_end) })
}

/// What an ELF file's headers say about how it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elf {
    /// Not an ELF program (a script, or headers beyond what was read).
    NotElf,
    /// No `PT_INTERP`: a static program.
    Static,
    /// Its dynamic loader's path (empty if it lies beyond what was read).
    Interp(Range<usize>),
}

/// Why this library cannot be preloaded into the ELF program whose first bytes are `head`: a
/// 32-bit program, or one for another machine (its loader would print "wrong ELF class" and go
/// on without it). `None` for an x86-64 program, or what is not ELF.
pub fn foreign(head: &[u8]) -> Option<&'static [u8]> {
    if head.len() < 20 || &head[..4] != b"\x7fELF" {
        return None;
    }
    const EM_X86_64: u16 = 62;
    match (head[4], u16::from_le_bytes([head[18], head[19]])) {
        (1, _) => Some(b"is a 32-bit program (the 64-bit library cannot be preloaded into it)"),
        (2, EM_X86_64) => None,
        _ => Some(b"is built for another machine (the library cannot be preloaded into it)"),
    }
}

/// Reads an ELF program's `PT_INTERP` from its first bytes.
pub fn elf(head: &[u8]) -> Elf {
    elf_inner(head).unwrap_or(Elf::NotElf)
}

fn elf_inner(head: &[u8]) -> Option<Elf> {
    if head.len() < 64 || &head[..4] != b"\x7fELF" {
        return None;
    }
    let u16_at = |o: usize| u16::from_le_bytes([head[o], head[o + 1]]) as usize;
    let wide = match head[4] {
        2 => true,
        1 => false,
        _ => return None,
    };
    let (phoff, phentsize, phnum) = if wide {
        (u64::from_le_bytes(head[32..40].try_into().ok()?) as usize, u16_at(54), u16_at(56))
    } else {
        (u32::from_le_bytes(head[28..32].try_into().ok()?) as usize, u16_at(42), u16_at(44))
    };
    // ET_REL and core files are not programs.
    if !matches!(u16_at(16), 2 | 3) || phentsize < if wide { 56 } else { 32 } {
        return None;
    }
    let end = phoff.checked_add(phentsize.checked_mul(phnum)?)?;
    if end > head.len() {
        return None;
    }
    const PT_INTERP: u32 = 3;
    for i in 0..phnum {
        let o = phoff + i * phentsize;
        if u32::from_le_bytes([head[o], head[o + 1], head[o + 2], head[o + 3]]) != PT_INTERP {
            continue;
        }
        let (off, size) = if wide {
            (u64::from_le_bytes(head[o + 8..o + 16].try_into().ok()?) as usize, u64::from_le_bytes(head[o + 32..o + 40].try_into().ok()?) as usize)
        } else {
            (u32::from_le_bytes(head[o + 4..o + 8].try_into().ok()?) as usize, u32::from_le_bytes(head[o + 16..o + 20].try_into().ok()?) as usize)
        };
        let Some(path) = off.checked_add(size).and_then(|e| head.get(off..e)) else {
            return Some(Elf::Interp(0..0));
        };
        let len = path.iter().position(|&b| b == 0).unwrap_or(path.len());
        return Some(Elf::Interp(off..off + len));
    }
    Some(Elf::Static)
}

/// The candidates of a `$PATH` search for `name`, in order (an empty entry is the cwd).
pub fn path_candidates<'a>(path_var: &'a [u8], name: &'a [u8]) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
    path_var.split(|&b| b == b':').map(move |dir| (dir, name))
}

#[cfg(test)]
mod tests {
    #[test]
    fn foreign_programs_are_told_apart() {
        let mut h = [0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[18] = 62;
        assert_eq!(super::foreign(&h), None, "x86-64");
        h[4] = 1;
        h[18] = 3;
        assert!(super::foreign(&h).is_some_and(|w| w.starts_with(b"is a 32-bit")));
        h[4] = 2;
        h[18] = 183;
        assert!(super::foreign(&h).is_some_and(|w| w.starts_with(b"is built for another machine")));
        assert_eq!(super::foreign(b"#!/bin/sh\n"), None);
    }

    use super::*;

    fn sb(s: &[u8]) -> Option<(String, Option<String>)> {
        shebang(s).map(|b| (String::from_utf8_lossy(&s[b.interp]).into_owned(), b.arg.map(|a| String::from_utf8_lossy(&s[a]).into_owned())))
    }

    #[test]
    fn shebang_lines_as_the_kernel_reads_them() {
        assert_eq!(sb(b"#!/bin/sh\necho"), Some(("/bin/sh".into(), None)));
        assert_eq!(sb(b"#! /usr/bin/env  python3 -u \r\n"), Some(("/usr/bin/env".into(), Some("python3 -u".into()))));
        assert_eq!(sb(b"#!\t/bin/sh\t-e"), Some(("/bin/sh".into(), Some("-e".into()))));
        assert_eq!(sb(b"#!   \n"), None);
        assert_eq!(sb(b"#"), None);
        assert_eq!(sb(b"\x7fELF"), None);
    }

    fn elf64(interp: Option<&[u8]>) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[16] = 3;
        h[32..40].copy_from_slice(&64u64.to_le_bytes());
        h[54..56].copy_from_slice(&56u16.to_le_bytes());
        h[56..58].copy_from_slice(&1u16.to_le_bytes());
        if let Some(p) = interp {
            h[64..68].copy_from_slice(&3u32.to_le_bytes());
            h[72..80].copy_from_slice(&200u64.to_le_bytes());
            h[96..104].copy_from_slice(&(p.len() as u64 + 1).to_le_bytes());
            h[200..200 + p.len()].copy_from_slice(p);
        } else {
            h[64..68].copy_from_slice(&1u32.to_le_bytes());
        }
        h
    }

    #[test]
    fn elf_headers_say_static_or_their_loader() {
        let dynamic = elf64(Some(b"/lib64/ld-linux-x86-64.so.2"));
        match elf(&dynamic) {
            Elf::Interp(r) => assert_eq!(&dynamic[r], b"/lib64/ld-linux-x86-64.so.2"),
            other => panic!("{other:?}"),
        }
        assert_eq!(elf(&elf64(None)), Elf::Static);
        assert_eq!(elf(b"#!/bin/sh\n"), Elf::NotElf);
        assert_eq!(elf(&elf64(None)[..40]), Elf::NotElf);
    }
}
