//! The first-component index: which first components (`unreal` in `/unreal/x`) some entry of
//! some view starts with. A path whose first component is in no entry is under none, whatever
//! follows, so the hot test looks at one component and never at the entries themselves.

/// At most this many distinct first components are indexed; more makes every path slow (never
/// wrong).
pub const MAX_FIRSTS: usize = 32;

#[derive(Clone, Copy, Debug)]
pub struct Index {
    /// One bit per (first byte, length) hash of each indexed component: most misses cost one
    /// test.
    bloom: u64,
    firsts: [&'static [u8]; MAX_FIRSTS],
    count: usize,
    /// Too many to index: every path is slow.
    overflow: bool,
}

/// The bloom bit of a component, from its first two bytes (a second byte that ends the
/// component counts as 0): what the hot test can read off a path without measuring anything.
#[inline(always)]
pub fn bit(c1: u8, c2: u8) -> u64 {
    let c2 = if c2 == b'/' { 0 } else { c2 };
    1u64 << ((c1 as u32 ^ ((c2 as u32) << 3) ^ ((c2 as u32) >> 3)) & 63)
}

fn comp_bit(comp: &[u8]) -> u64 {
    bit(comp.first().copied().unwrap_or(0), comp.get(1).copied().unwrap_or(0))
}

impl Index {
    pub const fn empty() -> Index {
        Index { bloom: 0, firsts: [b""; MAX_FIRSTS], count: 0, overflow: false }
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
        self.bloom |= comp_bit(comp);
    }

    /// Whether some entry's path may start with the component `comp`.
    #[inline(always)]
    pub fn may_hold(&self, comp: &[u8]) -> bool {
        if self.bloom & comp_bit(comp) == 0 && !self.overflow {
            return false;
        }
        self.overflow || self.firsts[..self.count].contains(&comp)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0 && !self.overflow
    }

    /// The bloom word the hot test reads (all ones when too many to index).
    pub fn bloom(&self) -> u64 {
        if self.overflow {
            u64::MAX
        } else {
            self.bloom
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_it_holds_and_nothing_else() {
        let mut i = Index::empty();
        for p in [&b"/unreal"[..], b"/unreal/unreal", b"/mnt/a", b"/"] {
            i.add_path(p);
        }
        assert!(i.may_hold(b"unreal") && i.may_hold(b"mnt"));
        for other in [&b"usr"[..], b"unrea", b"unrealx", b"mn", b"tmp", b""] {
            assert!(!i.may_hold(other), "{other:?}");
        }
    }
}
