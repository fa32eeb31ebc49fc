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

use super::{put_trail, Call, Route, Routed};
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
        self.read_only = d.read_only;
        match self.mount {
            None => self.mount = Some(d.mount),
            Some(m) if !same(m, d.mount) => self.consistent = false,
            Some(_) => {}
        }
        Ok(())
    }
}

fn same(a: Option<&Entry>, b: Option<&Entry>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => std::ptr::eq(x, y),
        _ => false,
    }
}

/// `None`: the walk must decide.
pub fn route(rt: &Runtime, out: &mut PBuf, shape: Shape, call: &Call) -> Res<Option<Routed>> {
    crate::sys::pool::with_buf(|pos| route_with(rt, out, shape, call, pos))
}

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
            m.map_out(out)?;
            routed.route = Route::Host;
            // A symlink below may lead where the kernel, on the host, finds nothing: an ENOENT
            // is worth one exact walk.
            routed.retry = true;
        }
    }
    if routed.route == Route::Host {
        put_trail(out, shape)?;
    }
    Ok(Some(routed))
}
