//! The lexical helpers the resolver needs: components, `..` detection, whole-component
//! prefixes, trailing slashes, normalizing in place. Pure functions on bytes.

use crate::sys::PBuf;

/// True if `path` has a `..` component (the plain definition the vector scan must agree with).
pub fn has_dotdot(path: &[u8]) -> bool {
    path.split(|&b| b == b'/').any(|c| c == b"..")
}

/// True if `path` (absolute, canonical) is `mount` or below it, by whole components.
#[inline]
pub fn is_under(path: &[u8], mount: &[u8]) -> bool {
    if mount == b"/" {
        return true;
    }
    let n = mount.len();
    path.len() >= n && (path.len() == n || path[n] == b'/') && &path[..n] == mount
}

/// True if `path` is strictly above `entry` (a proper ancestor, by whole components).
#[inline]
pub fn is_above(path: &[u8], entry: &[u8]) -> bool {
    path != entry && is_under(entry, path)
}

/// The components of `path`, skipping empty ones and `.`.
pub fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".")
}

/// The parent of a canonical absolute path (`/` for `/` and `/x`).
pub fn parent(path: &[u8]) -> &[u8] {
    match memchr::memrchr(b'/', path) {
        Some(0) | None => b"/",
        Some(i) => &path[..i],
    }
}

/// The last component of a canonical absolute path (empty for `/`).
pub fn base_name(path: &[u8]) -> &[u8] {
    match memchr::memrchr(b'/', path) {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// What a path's last characters demand, beyond its last component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trail {
    None,
    /// `x/`: a directory, the last link followed.
    Slash,
    /// `x/.`: the same, and for the calls that make or remove a name, a `.` as the last one.
    SlashDot,
}

impl Trail {
    pub fn text(self) -> &'static [u8] {
        match self {
            Trail::None => b"",
            Trail::Slash => b"/",
            Trail::SlashDot => b"/.",
        }
    }

    pub fn is_some(self) -> bool {
        self != Trail::None
    }
}

/// What [`normalize`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// A `..` component remains (normalizing keeps them: only a walk may take them away).
    pub dotdot: bool,
    pub trail: Trail,
}

/// Rewrites the absolute path in `p` without empty or `.` components (keeping `..`), and without
/// its trailing `/` or `/.`, which is returned in the shape.
#[inline]
pub fn normalize(p: &mut PBuf) -> Shape {
    // Most paths are normal already: a short one is checked in one vector pass, and only a
    // `//`, a `.` component or a trailing `/` makes it rewritten below.
    if let Some((s, d)) = p.slash_dot_masks() {
        let end = 1u64 << p.len();
        let t = s | end;
        let double = s & (s >> 1);
        let dot = s & (d >> 1) & (t >> 2);
        let trailing = s & (end >> 1) & !1;
        if double | dot | trailing == 0 {
            let dotdot = s & (d >> 1) & (d >> 2) & (t >> 3);
            return Shape { dotdot: dotdot != 0, trail: Trail::None };
        }
    }
    rewrite(p)
}

/// [`normalize`] byte by byte, rewriting in place.
#[cold]
#[inline(never)]
fn rewrite(p: &mut PBuf) -> Shape {
    let mut shape = Shape { dotdot: false, trail: Trail::None };
    p.rewrite(|b| {
        let n = b.len();
        // The trail: a final `/` or `/.` (a lone `/` is the root, no trail).
        let mut end = n;
        while end > 1 && b[end - 1] == b'/' {
            end -= 1;
            shape.trail = Trail::Slash;
        }
        if end > 1 && b[end - 1] == b'.' && b[end - 2] == b'/' {
            shape.trail = Trail::SlashDot;
        }
        let mut w = 0;
        let mut i = 0;
        while i < end {
            while i < end && b[i] == b'/' {
                i += 1;
            }
            let start = i;
            while i < end && b[i] != b'/' {
                i += 1;
            }
            let comp_len = i - start;
            if comp_len == 0 || (comp_len == 1 && b[start] == b'.') {
                continue;
            }
            if comp_len == 2 && b[start] == b'.' && b[start + 1] == b'.' {
                shape.dotdot = true;
            }
            b[w] = b'/';
            w += 1;
            b.copy_within(start..i, w);
            w += comp_len;
        }
        if w == 0 {
            b[0] = b'/';
            w = 1;
            // `/.`, `//`: the root, no trail.
            shape.trail = Trail::None;
        }
        w
    });
    shape
}

/// Whether the `..` components of `rest` (relative) never climb above where it starts.
pub fn stays_within(rest: &[u8]) -> bool {
    let mut depth: i32 = 0;
    for comp in components(rest) {
        depth += if comp == b".." { -1 } else { 1 };
        if depth < 0 {
            return false;
        }
    }
    true
}

/// `n` in decimal, into `buf`, without the heap (for `/proc/<pid>`, `/dev/fd/<n>`).
pub fn decimal(n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let (mut i, mut v) = (buf.len(), n);
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

/// A non-negative decimal number (at most nine digits), as in `/proc/self/fd/12`.
pub fn parse_decimal(s: &[u8]) -> Option<i32> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0i32, |a, &d| a * 10 + (d - b'0') as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &[u8]) -> (String, Shape) {
        let mut p = PBuf::from_bytes(s).unwrap();
        let shape = normalize(&mut p);
        (String::from_utf8_lossy(p.as_bytes()).into_owned(), shape)
    }

    #[test]
    fn normalizing_drops_empty_and_dot_components_and_keeps_dotdot() {
        assert_eq!(norm(b"/a//b/./c").0, "/a/b/c");
        assert_eq!(norm(b"/a/../b").0, "/a/../b");
        assert!(norm(b"/a/../b").1.dotdot && !norm(b"/a/..b").1.dotdot);
        assert_eq!(norm(b"/a/b/"), ("/a/b".into(), Shape { dotdot: false, trail: Trail::Slash }));
        assert_eq!(norm(b"/a/b/."), ("/a/b".into(), Shape { dotdot: false, trail: Trail::SlashDot }));
        assert_eq!(norm(b"/a/b//."), ("/a/b".into(), Shape { dotdot: false, trail: Trail::SlashDot }));
        for root in [&b"/"[..], b"//", b"/.", b"/./", b"///."] {
            assert_eq!(norm(root), ("/".into(), Shape { dotdot: false, trail: Trail::None }), "{root:?}");
        }
        assert_eq!(norm(b"/.git/objects").0, "/.git/objects");
    }

    /// The one-pass check agrees with the rewrite on every path over `/`, `.` and a letter up
    /// to 9 bytes, short or padded past the check's window, over stale bytes of a longer path.
    #[test]
    fn the_quick_check_agrees_with_the_rewrite() {
        let alphabet = [b'/', b'.', b'a'];
        for len in 0..=9u32 {
            for code in 0..3usize.pow(len) {
                let mut c = code;
                let mut p = vec![b'/'];
                for _ in 0..len {
                    p.push(alphabet[c % 3]);
                    c /= 3;
                }
                for pad in [0usize, 40, 52, 53, 54, 55, 60, 70] {
                    let mut full = p.clone();
                    if pad > 0 {
                        let mut padded = vec![b'/'];
                        padded.extend(std::iter::repeat_n(b'x', pad));
                        padded.extend_from_slice(&p);
                        full = padded;
                    }
                    let mut quick = PBuf::from_bytes(&[b'.'; 80]).unwrap();
                    quick.set(&full).unwrap();
                    let mut slow = PBuf::from_bytes(&full).unwrap();
                    let (qs, ss) = (normalize(&mut quick), rewrite(&mut slow));
                    assert_eq!((quick.as_bytes(), qs), (slow.as_bytes(), ss), "{:?}", String::from_utf8_lossy(&full));
                }
            }
        }
    }

    #[test]
    fn is_under_is_by_whole_components() {
        assert!(is_under(b"/unreal", b"/unreal") && is_under(b"/unreal/x", b"/unreal") && is_under(b"/x", b"/"));
        assert!(!is_under(b"/unrealx", b"/unreal") && !is_under(b"/unrea", b"/unreal"));
        assert!(is_above(b"/", b"/a") && is_above(b"/a", b"/a/b") && !is_above(b"/a", b"/a") && !is_above(b"/a", b"/ab/c"));
    }

    #[test]
    fn parents_and_names() {
        assert_eq!((parent(b"/a/b"), base_name(b"/a/b")), (&b"/a"[..], &b"b"[..]));
        assert_eq!((parent(b"/a"), base_name(b"/a")), (&b"/"[..], &b"a"[..]));
        assert_eq!((parent(b"/"), base_name(b"/")), (&b"/"[..], &b""[..]));
    }
}
