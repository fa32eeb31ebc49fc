//! The JSON trace: one object per line. The fields, in order (absent when they do not apply):
//!
//! `t` (CLOCK_MONOTONIC, ns), `pid`, `tid` (absent for the main thread, whose id is `pid`), `call`, `op` (look, read, write, exec, list,
//! remove, rename, link), `fd` (the descriptor a relative path starts from, or the one a
//! descriptor-based call is about), `path` (as the program gave it in this view), `view` (its
//! absolute name in this view; absent when it is `path` itself), `out` (as this view hands it
//! outward; absent when it is `view` itself, `null` when this view refused the call), the same three for a second name (`path2`, `view2`, `out2`: a rename's or a
//! link's new name), `flags` (open flags in words), `program`, `cwd` (the working directory, in
//! this view) and `argv` (exec), `result`,
//! `errno` (its name, when the call failed), `cut` (true when an argv was too long to keep whole).

use super::line::Line;
use super::words;
use super::{Event, Names};

/// Room kept for what closes a line, whatever was cut before it.
const TAIL: usize = 96;

/// Writes `ev`'s line into `out`: its length, or 0 if it does not fit.
pub fn line(out: &mut [u8], ev: &Event, one: &Names, two: Option<&Names>, cwd: Option<&Names>) -> usize {
    // Most lines (a stat, an open, a listing) have one name, no argv and nothing to escape:
    // written in one pass with the room checked once.
    if two.is_none() && cwd.is_none() && ev.program.is_none() && ev.argv.is_none() {
        if let Some(n) = super::quick::line(out, ev, one) {
            return n;
        }
    }
    careful(out, ev, one, two, cwd)
}

/// Any line: each piece checked for room, cut cleanly when something does not fit.
pub(super) fn careful(out: &mut [u8], ev: &Event, one: &Names, two: Option<&Names>, cwd: Option<&Names>) -> usize {
    if out.len() <= TAIL {
        return 0;
    }
    let end = out.len();
    let (body, _) = out.split_at_mut(end - TAIL);
    let mut l = Line::new(body);
    let (t, pid, tid) = super::stamp();
    l.raw(b"{\"t\":").nanos(t.0, t.1).raw(b",\"pid\":").int(pid as i64);
    // A process's main thread (most lines) has its id: `tid` is left out then.
    if tid != pid {
        l.raw(b",\"tid\":").int(tid as i64);
    }
    l.raw(b",\"call\":").clean(ev.call.as_bytes()).raw(b",\"op\":").clean(ev.access.word());
    if ev.dirfd != libc::AT_FDCWD && (ev.path.is_empty() || ev.path[0] != b'/') {
        l.raw(b",\"fd\":").int(ev.dirfd as i64);
    }
    names(&mut l, one, b",\"path\":", b",\"view\":", b",\"out\":");
    if let Some(two) = two {
        names(&mut l, two, b",\"path2\":", b",\"view2\":", b",\"out2\":");
    }
    if let Some(flags) = ev.flags {
        let mut w = [&b""[..]; 24];
        let n = words::open_flags(flags, &mut w);
        l.raw(b",\"flags\":").words(&w[..n]);
    }
    if let Some(p) = ev.program {
        l.raw(b",\"program\":").string(p);
    }
    if let Some(dir) = cwd {
        l.raw(b",\"cwd\":").string(dir.input);
    }
    if l.is_cut() {
        return 0;
    }
    let mut cut = false;
    if let Some(argv) = ev.argv {
        l.raw(b",\"argv\":").raw(b"[");
        let mut i = 0;
        for arg in argv.iter() {
            let mark = l.len();
            if i > 0 {
                l.raw(b",");
            }
            l.string(arg);
            if l.is_cut() {
                l = Line::resumed(l, mark);
                cut = true;
                break;
            }
            i += 1;
        }
        l.raw(b"]");
    }
    let n = l.len();
    // The tail: always room for it.
    let mut tail = Line::new(&mut out[n..]);
    tail.key_after(b"result").int(ev.result);
    if ev.errno != 0 {
        tail.key_after(b"errno");
        match words::errno_name(ev.errno) {
            Some(name) => tail.clean(name.as_bytes()),
            None => tail.int(ev.errno as i64),
        };
    }
    if cut {
        tail.key_after(b"cut").raw(b"true");
    }
    tail.raw(b"}\n");
    if tail.is_cut() {
        return 0;
    }
    n + tail.len()
}

/// A name's three fields; each key is written whole (`,"path":`), comma and quotes included.
fn names(l: &mut Line, n: &Names, path: &[u8], view: &[u8], out: &[u8]) {
    l.raw(path).string(n.given);
    // An absolute name in the view is most often the path as given: not written twice.
    if n.input != n.given {
        l.raw(view).string(n.input);
    }
    match n.met {
        // Handed outward unchanged (a view that maps nothing there): not written twice.
        crate::views::trace::Met::Crossed if std::ptr::eq(n.output, n.input) || n.output == n.input => {}
        crate::views::trace::Met::Crossed => {
            l.raw(out).string(n.output);
        }
        _ => {
            l.raw(out).raw(b"null");
        }
    }
}
