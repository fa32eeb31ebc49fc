//! The trace facet's decision: which traces a call crosses, and the names it has in each.
//!
//! The onion rule: a view's trace sees what crosses that view, a path as this view was given
//! it and as it hands it outward. A call that a view inside refused (hidden, denied, a
//! read-only mount's `EROFS`) never reaches the views outside it, so their traces do not see it;
//! the view that refused sees it, with its refusal.

use super::{Layer, Op, View};
use crate::errno::Res;
use crate::sys::PBuf;

/// How a call met view `k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Met {
    /// It crossed it: `input` is its name there, `output` what the view handed outward.
    Crossed,
    /// This view refused it (`output` is left empty).
    Refused,
    /// A view inside refused it: it never got here.
    Stopped,
}

/// The names of `virt` (canonical, the innermost view's terms) in view `k` of `views`
/// (outermost first): into `input` as view `k` is given it, into `output` as it hands it out.
/// `failed` is the call's final errno (0 if it succeeded): a read-only mount's `EROFS` is a
/// refusal of its view.
pub fn meet(views: &[View], k: usize, virt: &[u8], op: Op, failed: i32, input: &mut PBuf, output: &mut PBuf) -> Res<Met> {
    output.set(virt)?;
    for (i, view) in views.iter().enumerate().rev() {
        if i == k {
            input.set(output.as_bytes())?;
        }
        let refused = match view.decide(output.as_bytes(), op) {
            Err(_) => true,
            Ok(d) => {
                if let Some(m) = d.mount {
                    m.map_out(output)?;
                }
                d.read_only && op.writes() && failed == libc::EROFS
            }
        };
        if refused {
            output.clear();
            return Ok(if i == k { Met::Refused } else { Met::Stopped });
        }
        if i == k {
            return Ok(Met::Crossed);
        }
    }
    Ok(Met::Stopped)
}
