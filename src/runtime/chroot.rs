//! `chroot(2)` inside a view, emulated as fakechroot does but with the onion rule: the process
//! gets a new innermost view whose root is the directory (a `root=` entry, walked: absolute
//! symlinks and `..` stay inside it), published as the process's runtime and handed to every
//! child through `KMVIEW_STACK`. A chroot inside that one pushes another view.

use super::Runtime;
use crate::errno::{Errno, Res};
use crate::sys::arena::Arena;
use kmview_api::sink::{Fixed, Sink};

/// Makes `dir` (canonical, the innermost view's terms) the root of a new innermost view.
pub fn push_root(old: &Runtime, dir: &[u8]) -> Res<&'static Runtime> {
    const ENTRY: &[u8] = b";root=";
    const WALK: &[u8] = b":walk";
    let max = old.stack_value().len() + ENTRY.len() + 3 * dir.len() + WALK.len();
    let mut arena = Arena::map(max).ok_or(Errno::ENOMEM)?;
    let mut failed = false;
    let mut n = 0;
    let value = arena
        .bytes_with(max, |out| {
            let mut sink = Fixed::new(out);
            failed = !(sink.put(old.stack_value()) && sink.put(ENTRY) && kmview_api::format::encode_arg(&mut sink, dir) && sink.put(WALK));
            n = sink.len;
        })
        .ok_or(Errno::ENOMEM)?;
    if failed {
        return Err(Errno::ENOMEM);
    }
    super::load::replaced(old, &value[..n]).ok_or(Errno::ENOMEM)
}
