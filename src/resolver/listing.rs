//! How a directory's listing differs in the view from the kernel's: a mountpoint is listed
//! even when nothing lies at that name underneath (as after a real mount), a hidden name never.
//! Each entry says how its own name shows (`Layer::listed`); this finds the entries that are
//! children of the listed directory, view by view.

use super::to_host_in;
use crate::errno::Res;
use crate::path::{base_name, parent};
use crate::runtime::Runtime;
use crate::sys::PBuf;
use crate::views::{Layer, Listed, Op};

/// One change to a listing.
pub enum Change<'a> {
    /// A name to list (if the directory underneath lacks it), with the host path behind it.
    Add(&'a [u8], &'a PBuf),
    /// A name never to list.
    Drop(&'a [u8]),
}

/// Calls `f` for each name the views change in the directory `dir` (canonical, innermost
/// terms). Stops early if `f` returns false.
pub fn changes(rt: &Runtime, dir: &[u8], mut f: impl FnMut(Change) -> bool) -> Res<()> {
    let mut cur = crate::sys::pool::copy_of(dir)?;
    let mut host = crate::sys::pool::take()?;
    for (level, view) in rt.views.iter().enumerate().rev() {
        for e in view.entries {
            let at = e.at();
            if at == b"/" || parent(at) != cur.as_bytes() {
                continue;
            }
            let name = base_name(at);
            let go_on = match e.listed() {
                Listed::Dropped => f(Change::Drop(name)),
                Listed::Added => {
                    // The mountpoint's host path: its source, through the views outside.
                    let src = e.source().unwrap_or(b"/");
                    if to_host_in(&rt.views[..level], src, Op::Look, &mut host).is_err() {
                        continue;
                    }
                    f(Change::Add(name, &host))
                }
                Listed::AsIs => true,
            };
            if !go_on {
                return Ok(());
            }
        }
        // The directory in the next view's terms.
        match view.decide(cur.as_bytes(), Op::Look) {
            Ok(d) => {
                if let Some(m) = d.mount {
                    m.map_out(&mut cur)?;
                }
            }
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}
