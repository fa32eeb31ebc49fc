//! The first-component index: which first components (`unreal` in `/unreal/x`) some entry of
//! some view starts with. A path whose first component is in no entry is under none, whatever
//! follows, so the hot test looks at one component and never at the entries themselves.
//!
//! Its first filter is a table of 256 words, one per first byte of a component, each with one
//! bit per value of the second byte (modulo 64): the hot test reads two bytes of the path and
//! one word, and most paths under no entry stop there (`/usr` and `/unreal` differ in their
//! second byte). Only a hit compares components.

/// At most this many distinct first components are indexed; more makes every path slow (never
/// wrong).
pub const MAX_FIRSTS: usize = 32;

#[derive(Clone, Copy, Debug)]
pub struct Index {
    firsts: [&'static [u8]; MAX_FIRSTS],
    count: usize,
    /// Too many to index: every path is slow.
    overflow: bool,
}

/// The table's bit for a component's second byte, read as it is (`/` or NUL where the
/// component ends after one byte: a one-byte component sets both bits).
#[inline(always)]
pub fn second_bit(c2: u8) -> u64 {
    1u64 << (c2 & 63)
}

/// The bits of a component's second byte (both ends of a one-byte component).
fn second_bits(comp: &[u8]) -> u64 {
    match comp.get(1) {
        Some(&c2) => second_bit(c2),
        None => second_bit(0) | second_bit(b'/'),
    }
}

impl Index {
    pub const fn empty() -> Index {
        Index { firsts: [b""; MAX_FIRSTS], count: 0, overflow: false }
    }

    /// Adds the first component of the absolute path `at` (nothing for `/`).
    pub fn add_path(&mut self, at: &'static [u8]) {
        let rest = &at[1.min(at.len())..];
        let end = memchr::memchr(b'/', rest).unwrap_or(rest.len());
        self.add(&rest[..end]);
    }

    pub fn add(&mut self, comp: &'static [u8]) {
        if comp.is_empty() || self.firsts[..self.count].contains(&comp) {
            return;
        }
        if self.count == MAX_FIRSTS {
            self.overflow = true;
            return;
        }
        self.firsts[self.count] = comp;
        self.count += 1;
    }

    /// The hot test's table word for a component's first byte `c1`. A first byte of NUL, `/` or
    /// `.` (`/`, `//x`, `/./x`, `/../x`) has every bit set: those paths always take the slow way.
    pub fn table_word(&self, c1: u8) -> u64 {
        if self.overflow || matches!(c1, 0 | b'/' | b'.') {
            return u64::MAX;
        }
        self.firsts().iter().filter(|f| f[0] == c1).fold(0, |w, f| w | second_bits(f))
    }

    /// Writes the whole table with `set(c1, word)` and `or(c1, bits)`: what [`Index::table_word`]
    /// says of every first byte, in one pass over the components.
    pub fn fill_table(&self, set: impl Fn(u8, u64), or: impl Fn(u8, u64)) {
        let all = if self.overflow { u64::MAX } else { 0 };
        for c1 in 0..=255u8 {
            set(c1, all);
        }
        for f in self.firsts() {
            or(f[0], second_bits(f));
        }
        for c1 in [0, b'/', b'.'] {
            set(c1, u64::MAX);
        }
    }

    /// The indexed first components (empty when [`Index::overflows`]).
    pub fn firsts(&self) -> &[&'static [u8]] {
        &self.firsts[..self.count]
    }

    /// Too many first components to index: every path takes the slow way.
    pub fn overflows(&self) -> bool {
        self.overflow
    }

    /// Whether some entry's path may start with the component `comp`.
    pub fn may_hold(&self, comp: &[u8]) -> bool {
        self.overflow || self.firsts[..self.count].contains(&comp)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0 && !self.overflow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(paths: &[&'static [u8]]) -> Index {
        let mut i = Index::empty();
        for p in paths {
            i.add_path(p);
        }
        i
    }

    #[test]
    fn finds_what_it_holds_and_nothing_else() {
        let i = built(&[b"/unreal", b"/unreal/unreal", b"/mnt/a", b"/"]);
        assert!(i.may_hold(b"unreal") && i.may_hold(b"mnt"));
        for other in [&b"usr"[..], b"unrea", b"unrealx", b"mn", b"tmp", b""] {
            assert!(!i.may_hold(other), "{other:?}");
        }
    }

    /// The table and the in-place comparison agree with `may_hold` on every path shape: a
    /// path the table lets through is under no entry.
    #[test]
    #[allow(unsafe_code)]
    fn table_and_in_place_comparison_agree_with_the_components() {
        let i = built(&[b"/unreal", b"/mnt/a", b"/x", b"/proc"]);
        for p in [
            &b"/unreal\0"[..],
            b"/unreal/x\0",
            b"/unrealx\0",
            b"/unrea\0",
            b"/usr/lib\0",
            b"/mnt\0",
            b"/mn/x\0",
            b"/x\0",
            b"/x/y\0",
            b"/xy\0",
            b"/proc/self\0",
            b"/p\0",
            b"/\0",
            b"//x\0",
            b"/./x\0",
            b"/../x\0",
        ] {
            let comp_end = p[1..].iter().position(|&b| b == b'/' || b == 0).unwrap() + 1;
            let comp = &p[1..comp_end];
            let odd = matches!(p[1], 0 | b'/' | b'.');
            let expect = odd || i.may_hold(comp);
            let c2 = if p[1] == 0 { 0 } else { p[2] };
            let table_says = i.table_word(p[1]) & second_bit(c2) != 0;
            let filled = std::cell::RefCell::new([0u64; 256]);
            i.fill_table(|c, w| filled.borrow_mut()[c as usize] = w, |c, b| filled.borrow_mut()[c as usize] |= b);
            assert_eq!(filled.borrow()[p[1] as usize], i.table_word(p[1]));
            assert!(table_says || !expect, "the table misses {:?}", String::from_utf8_lossy(p));
            // SAFETY: NUL-terminated.
            let c = unsafe { crate::sys::cpath::CPath::new(p.as_ptr().cast()) };
            let in_place = odd || i.firsts().iter().any(|f| c.first_component_is(f));
            assert_eq!(in_place, expect, "{:?}", String::from_utf8_lossy(p));
        }
    }
}
