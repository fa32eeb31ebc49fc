//! The textual way: a normalized absolute path with no `..`, view by view from the innermost,
//! each view's deciding entries checked and its mount's prefix replaced by the source; the
//! kernel walks the rest. Exact wherever the kernel's walk of the rest is the view's (the
//! mount's source has no symlink leading out of it: the launcher looked), else the walk.

use super::{Call, Routed};
use crate::errno::Res;
use crate::path::Shape;
use crate::runtime::Runtime;
use crate::sys::PBuf;
use crate::views::Layer;

/// `None`: a mount on the way must be walked (the caller starts over with the walk).
#[inline(always)]
pub fn route(rt: &Runtime, out: &mut PBuf, shape: Shape, call: &Call) -> Res<Option<Routed>> {
    let mut routed = Routed::NATIVE;
    for view in rt.views.iter().rev() {
        let d = view.decide(out.as_bytes(), call.op)?;
        if d.walks {
            return Ok(None);
        }
        routed.read_only |= d.read_only && call.op.writes();
        let Some(m) = d.mount else { continue };
        if let crate::views::Entry::Overlay(o) = m {
            // A change is walked (what it changes is carried to upper first); a look or a read
            // goes the textual way unless a symlink is on it.
            let asks_write = call.op == crate::views::Op::AccessW;
            if call.op.writes() && !asks_write || !(asks_write && super::overlaid(m, call.op, out)? || o.route_read(out, call.follow)?) {
                return Ok(None);
            }
            routed.route = super::Route::Host;
            routed.retry = true;
            continue;
        }
        if m.walks() {
            return Ok(None);
        }
        routed.through(m, out)?;
    }
    routed.finish(out, shape)
}
