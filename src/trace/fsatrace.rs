//! fsatrace's format, so that tools reading it (Shake and others) switch by one word: one
//! `op|path` line per successful call, `m|new|old` for a rename; paths absolute, in this view.
//!
//! fsatrace's operations: `r` read (an open without a write flag; also the program a process
//! runs), `w` write (an open with `O_WRONLY`, `O_RDWR`, `O_APPEND`, `O_CREAT` or `O_TRUNC`, and
//! here every other call that makes or changes a file), `m` move, `d` delete, `q` query (stat,
//! access, readlink), `t` touch (the `utime` family). A listing has no letter: it is left out.

use super::{Access, Event, Names};

pub fn line(out: &mut [u8], ev: &Event, one: &Names, two: Option<&Names>) -> usize {
    if ev.result < 0 {
        return 0;
    }
    let op: &[u8] = match ev.access {
        _ if ev.call.starts_with("utime") || ev.call == "lutimes" || ev.call == "futimesat" => b"t",
        Access::Read | Access::Exec => b"r",
        Access::Look => match ev.flags {
            // fsatrace names an open by its flags alone (a directory opened to read is `r`).
            Some(_) => b"r",
            None => b"q",
        },
        Access::Write | Access::Link => b"w",
        Access::Remove => b"d",
        Access::Rename => b"m",
        Access::List => return 0,
    };
    let mut l = super::line::Line::new(out);
    l.raw(op).raw(b"|");
    match (ev.access, two) {
        (Access::Rename, Some(two)) => {
            l.raw(two.input).raw(b"|").raw(one.input);
        }
        (Access::Link, Some(two)) => {
            l.raw(two.input);
        }
        _ => {
            l.raw(one.input);
        }
    }
    l.raw(b"\n");
    if l.is_cut() {
        0
    } else {
        l.len()
    }
}
