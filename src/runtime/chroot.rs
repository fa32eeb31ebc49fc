//! `chroot(2)` inside a view, emulated as fakechroot does but with the onion rule: the process
//! gets a new innermost view whose root is the directory (a `chroot=` entry: walked, so absolute
//! symlinks and `..` stay inside it), published as the process's runtime and handed to every
//! child through `KMVIEW_STACK`.
//!
//! As the kernel's, a chroot replaces the root rather than nesting in it: the chroot views at
//! the end of the stack (one, after any number of chroots) are replaced by one whose directory
//! is named in the terms of the views outside them. So a process whose working directory lies
//! outside its root (it chrooted into a subdirectory without entering it) can walk `..` up and
//! `chroot(".")` out of it, as root can with the kernel's.

use super::Runtime;
use crate::errno::{Errno, Res};
use crate::sys::arena::Arena;
use crate::sys::PBuf;
use kmview_api::sink::{Fixed, Sink};

/// Makes `dir` the process's root: `dir` is canonical in the terms of the views outside the
/// chroot views (`outer_name`), or of the innermost view (then named outward first).
pub fn chroot(old: &Runtime, dir: &[u8], outer_name: bool) -> Res<&'static Runtime> {
    let n = old.chroot_views();
    let base = old.views.len() - n;
    let mut named = crate::sys::pool::take()?;
    if outer_name {
        named.set(dir)?;
    } else {
        crate::resolver::to_host_in(&old.views[base..], dir, crate::views::Op::Look, &mut named)?;
    }
    let kept = views_prefix(old.stack_value(), base);
    super::load::replaced(old, value(kept, &named)?).ok_or(Errno::ENOMEM)
}

/// The start of a `KMVIEW_STACK` value that holds its first `views` views (the version tag
/// and every `;` before them: arguments never hold a `;`, it is always escaped).
fn views_prefix(value: &[u8], views: usize) -> &[u8] {
    let mut seen = 0;
    for (i, &b) in value.iter().enumerate() {
        if b == b';' {
            if seen == views {
                return &value[..i];
            }
            seen += 1;
        }
    }
    value
}

/// `kept` and a chroot view of `dir` (none for `/`: the root of the views outside is the
/// process's root again), in an arena of its own.
fn value(kept: &[u8], dir: &PBuf) -> Res<&'static [u8]> {
    const ENTRY: &[u8] = b";chroot=";
    let max = kept.len() + ENTRY.len() + 3 * dir.len();
    let mut arena = Arena::map(max).ok_or(Errno::ENOMEM)?;
    let mut ok = true;
    let mut n = 0;
    let out = arena
        .bytes_with(max, |out| {
            let mut sink = Fixed::new(out);
            ok = sink.put(kept) && (dir.as_bytes() == b"/" || (sink.put(ENTRY) && kmview_api::format::encode_arg(&mut sink, dir.as_bytes())));
            n = sink.len;
        })
        .ok_or(Errno::ENOMEM)?;
    if !ok {
        return Err(Errno::ENOMEM);
    }
    Ok(&out[..n])
}

#[cfg(test)]
mod tests {
    use super::views_prefix;

    #[test]
    fn a_stack_value_is_cut_between_views() {
        let v = b"kmview1;bind=/a:/b;;chroot=/x%3By";
        assert_eq!(views_prefix(v, 0), b"kmview1");
        assert_eq!(views_prefix(v, 1), b"kmview1;bind=/a:/b");
        assert_eq!(views_prefix(v, 2), b"kmview1;bind=/a:/b;");
        assert_eq!(views_prefix(v, 3), &v[..]);
    }
}
