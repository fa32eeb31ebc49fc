//! A path with `..`: left to the kernel's own walk wherever that provably is the view's.
//!
//! The positions a `..` path passes through lexically are the ones before each `..` and the
//! last; if a position is under an entry, every prefix of it is too, so checking those is
//! checking them all. In each view, from the innermost:
//! - no position under any entry: the view does not change the path;
//! - every position under the same mount, which does not walk, and no `..` taken at the
//!   mount's own root (where the view goes to the mountpoint's parent but the kernel would go
//!   to the source's): the mount's prefix is replaced and the `..` left for the kernel (the
//!   launcher made sure no symlink in the source leads out of it or above its own depth, so the
//!   kernel's `..` never reaches the source's parent either);
//! - only marks: they check, the path goes on;
//! - anything else: the exact walk.
//!
//! Every position extends the path's lowest point (its first components down to the least depth
//! a `..` leaves it at, or it ends at): when no entry of a view lies below that point, every
//! position decides as the point itself does, and one decision stands for them all. Only a
//! `..` that crosses an entry needs each position looked at.

use super::{Call, Routed};
use crate::errno::Res;
use crate::path::{components, Shape};
use crate::runtime::Runtime;
use crate::sys::PBuf;
use crate::views::{Entry, Layer, Op, View};

/// What one view makes of the positions.
struct Plan {
    touched: bool,
    /// The mount of the first position, once seen; `Some(None)`: under no mount.
    mount: Option<Option<&'static Entry>>,
    consistent: bool,
    /// A `..` taken at the mount's own root.
    root_pop: bool,
    read_only: bool,
}

impl Plan {
    fn see(&mut self, view: &View, pos: &[u8], op: Op) -> Res<()> {
        let d = view.decide(pos, op)?;
        self.touched |= d.touched;
        self.consistent &= !d.walks;
        self.read_only = d.read_only;
        match self.mount {
            None => self.mount = Some(d.mount),
            Some(m) if !crate::views::same_entry(m, d.mount) => self.consistent = false,
            Some(_) => {}
        }
        Ok(())
    }
}

/// `None`: the walk must decide.
pub fn route(rt: &Runtime, out: &mut PBuf, shape: Shape, call: &Call) -> Res<Option<Routed>> {
    let mut routed = Routed::NATIVE;
    for view in rt.views.iter().rev() {
        let (low, ends_there) = lowest_in(out);
        let low = &out.as_bytes()[..low];
        if view.entries.iter().any(|e| crate::path::is_above(low, e.at())) {
            // An entry below the lowest point: positions may decide apart.
            return crate::sys::pool::with_buf(|pos| route_with(rt, out, shape, call, pos));
        }
        // The path ends below the lowest point: no position is an entry's own root.
        let op = if ends_there || !call.op.names_entry() { call.op } else { Op::Modify };
        let d = view.decide(low, op)?;
        if d.walks {
            return Ok(None);
        }
        routed.read_only |= d.read_only && call.op.writes();
        let Some(m) = d.mount else { continue };
        if m.walks_dotdot() {
            return Ok(None);
        }
        // The lowest point is at or under the mount: no `..` leaves its root, and its path is
        // the text's prefix.
        routed.through(m, out)?;
    }
    routed.finish(out, shape)
}

/// For a normalized absolute path with `..`: the length of its lowest point (its first
/// components down to the least depth a `..` leaves it at or it ends at; `/` for depth 0), and
/// whether it ends there. Those first components are never taken back by a `..`, so none of
/// them is one.
fn lowest_in(buf: &PBuf) -> (usize, bool) {
    let Some((s, d)) = buf.slash_dot_masks() else {
        return lowest(buf.as_bytes());
    };
    // Bit i: byte i; the path is normalized, so each `/` but a final one starts a component.
    let len = buf.len();
    let end = 1u64 << len;
    let t = s | end;
    let dotdots = s & (d >> 1) & (d >> 2) & (t >> 3);
    let (mut depth, mut min) = (0usize, usize::MAX);
    let mut starts = s & !(end >> 1);
    while starts != 0 {
        let bit = starts & starts.wrapping_neg();
        if dotdots & bit != 0 {
            depth = depth.saturating_sub(1);
            min = min.min(depth);
        } else {
            depth += 1;
        }
        starts &= starts - 1;
    }
    let min = min.min(depth);
    if min == 0 {
        return (1, depth == 0);
    }
    // The `/` that starts component min + 1 ends the lowest point (or the path's end does).
    let mut rest = s;
    for _ in 0..min {
        rest &= rest - 1;
    }
    let at = if rest == 0 { len } else { rest.trailing_zeros() as usize };
    (at, depth == min)
}

/// [`lowest_in`] byte by byte (for paths too long for the masks).
fn lowest(p: &[u8]) -> (usize, bool) {
    // Components start after each `/` (the path is normalized: no empty ones).
    let is_dotdot = |i: usize| p.get(i + 1) == Some(&b'.') && p.get(i + 2) == Some(&b'.') && matches!(p.get(i + 3), None | Some(b'/'));
    let (mut depth, mut min) = (0usize, usize::MAX);
    for (i, &c) in p.iter().enumerate() {
        if c == b'/' && i + 1 < p.len() {
            if is_dotdot(i) {
                depth = depth.saturating_sub(1);
                min = min.min(depth);
            } else {
                depth += 1;
            }
        }
    }
    let min = min.min(depth);
    if min == 0 {
        return (1, depth == 0);
    }
    // The end of the min-th component: the `/` that starts the next one, or the end.
    let mut seen = 0;
    for (i, &c) in p.iter().enumerate() {
        if c == b'/' {
            if seen == min {
                return (i, depth == min);
            }
            seen += 1;
        }
    }
    (p.len(), depth == min)
}

/// Each position decided apart (an entry lies below the lowest point).
fn route_with(rt: &Runtime, out: &mut PBuf, shape: Shape, call: &Call, pos: &mut PBuf) -> Res<Option<Routed>> {
    let mut routed = Routed::NATIVE;
    for view in rt.views.iter().rev() {
        let mut plan = Plan { touched: false, mount: None, consistent: true, root_pop: false, read_only: false };
        pos.set(b"/")?;
        let mut pushed = false;
        for comp in components(out.as_bytes()) {
            if comp == b".." {
                if pushed {
                    plan.see(view, pos.as_bytes(), Op::Look)?;
                }
                if let Some(Some(m)) = plan.mount {
                    plan.root_pop |= pos.as_bytes() == m.at();
                }
                pos.pop_component();
                pushed = false;
            } else {
                pos.push_component(comp)?;
                pushed = true;
            }
        }
        plan.see(view, pos.as_bytes(), call.op)?;
        routed.read_only |= plan.read_only && call.op.writes();
        if !plan.touched {
            continue;
        }
        if !plan.consistent || plan.root_pop {
            return Ok(None);
        }
        if let Some(Some(m)) = plan.mount {
            if m.walks_dotdot() {
                return Ok(None);
            }
            routed.through(m, out)?;
        }
    }
    routed.finish(out, shape)
}

#[cfg(test)]
mod tests {
    use super::{lowest, lowest_in};

    #[test]
    fn the_lowest_point_is_where_the_dotdots_leave_the_path() {
        let at = |p: &[u8]| {
            let (n, ends) = lowest(p);
            let buf = crate::sys::PBuf::from_bytes(p).unwrap();
            assert_eq!(lowest_in(&buf), (n, ends), "the masks and the bytes differ on {:?}", String::from_utf8_lossy(p));
            (String::from_utf8_lossy(&p[..n]).into_owned(), ends)
        };
        assert_eq!(at(b"/mnt/data/a/../f"), ("/mnt/data".into(), false));
        assert_eq!(at(b"/mnt/data/a/.."), ("/mnt/data".into(), true));
        assert_eq!(at(b"/a/../b"), ("/".into(), false));
        assert_eq!(at(b"/.."), ("/".into(), true));
        assert_eq!(at(b"/a/b/../../c/d/.."), ("/".into(), false));
        assert_eq!(at(b"/a/b/c/../../d/e/../f"), ("/a".into(), false));
        assert_eq!(at(b"/a/b/../c/d/.."), ("/a".into(), false));
        assert_eq!(at(b"/a/b/c/d/../.."), ("/a/b".into(), true));
    }
}
