//! What a process takes over from its parent at load: the names of the descriptors it
//! inherits (`KMVIEW_FDS`), each believed only if it still names the same file; or, in the
//! first process of a view (`KMVIEW_FDS=*`), every descriptor named from what the kernel says
//! it is, so that none inherited from outside the view is unknown to it.

use super::below::Below;
use super::{fd_flags_for, names, to_host};
use crate::runtime::Runtime;
use crate::state::fds;
use crate::views::Op;

pub fn inherited_fds<B: Below>(b: &B, rt: &Runtime) {
    let Some(value) = crate::sys::getenv(b"KMVIEW_FDS\0") else {
        return;
    };
    let Ok(mut virt) = crate::sys::pool::take() else {
        return;
    };
    if value == kmview_api::env::FDS_SCAN {
        b.each_open_fd(&mut |fd| {
            if names::kernel(b, rt, fd, b"", &mut virt).is_ok() {
                let f = fd_flags_for(rt, virt.as_bytes());
                if f != 0 {
                    names::record(b, rt, fd, virt.as_bytes(), (f & !fds::READ_ONLY) | fds::OUTSIDE);
                }
            }
        });
        return;
    }
    let Ok(mut host) = crate::sys::pool::take() else {
        return;
    };
    for item in kmview_api::env::fds(value) {
        let Ok(kmview_api::env::Fd { fd, name, outside }) = item else {
            continue;
        };
        if virt
            .fill_with(|buf| if name.decoded_len() < buf.len() { Ok(name.decode_into(buf)) } else { Err(crate::errno::Errno::ENAMETOOLONG) })
            .is_err()
        {
            continue;
        }
        if virt.as_bytes().first() != Some(&b'/') || to_host(rt, virt.as_bytes(), Op::Look, &mut host).is_err() {
            continue;
        }
        if matches!((b.stat(libc::AT_FDCWD, &host, true), b.fstat(fd)), (Ok(x), Ok(y)) if x.same(&y)) {
            let f = fd_flags_for(rt, virt.as_bytes());
            let f = if outside { (f & !fds::READ_ONLY) | fds::OUTSIDE } else { f };
            names::record(b, rt, fd, virt.as_bytes(), f | fds::NAMED);
        } else if !outside && is_overlays_lower(b, rt, fd, virt.as_bytes(), &mut host) {
            // Opened on an overlay's lower file that has been copied up since: still the lower
            // file, still read-only to changes through the descriptor.
            let f = fd_flags_for(rt, virt.as_bytes()) | fds::READ_ONLY;
            names::record(b, rt, fd, virt.as_bytes(), f | fds::NAMED);
        }
    }
}

/// Whether `fd` is the lower file of an overlay at `virt` (canonical, innermost view's terms).
fn is_overlays_lower<B: Below>(b: &B, rt: &Runtime, fd: libc::c_int, virt: &[u8], lower: &mut crate::sys::PBuf) -> bool {
    if !rt.has_overlay {
        return false;
    }
    let Some(crate::views::Entry::Overlay(o)) = rt.views.last().and_then(|v| v.mount_of(virt)) else { return false };
    o.lower_of(o.rel(virt), lower).is_ok() && matches!((b.stat(libc::AT_FDCWD, lower, false), b.fstat(fd)), (Ok(x), Ok(y)) if x.same(&y))
}
