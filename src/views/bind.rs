//! `bind`: a subtree of the outer view shown at another path. `root` (a bind at `/`), `tmp`
//! (a bind of a private directory) and `unreal` (two binds of `/`) are binds too: this is where
//! a bind decides what lies behind a path, what name a path of the outer view has here, and
//! what may happen under it.

use super::{Layer, Listed, Op};
use crate::errno::{Errno, Res};
use crate::path::is_under;
use crate::sys::PBuf;

#[derive(Clone, Copy, Debug)]
pub struct Bind {
    pub at: &'static [u8],
    pub source: &'static [u8],
    pub read_only: bool,
    /// Which paths below it are resolved component by component (the launcher looked at the
    /// source's symlinks): all, those with `..`, or none.
    pub walk: kmview_api::Walk,
}

impl Layer for Bind {
    #[inline]
    fn at(&self) -> &[u8] {
        self.at
    }

    fn source(&self) -> Option<&[u8]> {
        Some(self.source)
    }

    /// `AT/rest` is `SOURCE/rest`.
    #[inline]
    fn map_out(&self, path: &mut PBuf) -> Res<()> {
        if self.at == b"/" {
            // A root: every path gains the source in front (`/` itself is the source).
            if self.source == b"/" {
                return Ok(());
            }
            if path.as_bytes() == b"/" {
                return path.set(self.source);
            }
            return path.replace_prefix(0, self.source);
        }
        if self.source == b"/" && path.len() > self.at.len() {
            // `AT/rest` is `/rest`.
            return path.replace_prefix(self.at.len(), b"");
        }
        path.replace_prefix(self.at.len(), self.source)
    }

    /// `SOURCE/rest` is shown here as `AT/rest`.
    fn map_back(&self, outer: &[u8], out: &mut PBuf) -> Res<bool> {
        if !is_under(outer, self.source) {
            return Ok(false);
        }
        let rest = if self.source == b"/" { outer } else { &outer[self.source.len()..] };
        out.set_under(self.at, rest)?;
        Ok(true)
    }

    fn check(&self, op: Op) -> Res<()> {
        if self.read_only && op.writes() {
            return Err(Errno::EROFS);
        }
        Ok(())
    }

    fn walks(&self) -> bool {
        self.walk == kmview_api::Walk::All
    }

    fn walks_dotdot(&self) -> bool {
        self.walk != kmview_api::Walk::No
    }

    fn listed(&self) -> Listed {
        Listed::Added
    }

    fn read_only(&self) -> bool {
        self.read_only
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(b: &Bind, p: &[u8]) -> String {
        let mut buf = PBuf::from_bytes(p).unwrap();
        b.map_out(&mut buf).unwrap();
        String::from_utf8_lossy(buf.as_bytes()).into_owned()
    }

    fn back(b: &Bind, p: &[u8]) -> Option<String> {
        let mut buf = PBuf::new();
        b.map_back(p, &mut buf).unwrap().then(|| String::from_utf8_lossy(buf.as_bytes()).into_owned())
    }

    #[test]
    fn maps_out_and_back_for_every_shape_of_bind() {
        let plain = Bind { at: b"/mnt/a", source: b"/src", read_only: false, walk: kmview_api::Walk::No };
        assert_eq!((out(&plain, b"/mnt/a"), out(&plain, b"/mnt/a/x/y")), ("/src".into(), "/src/x/y".into()));
        assert_eq!((back(&plain, b"/src"), back(&plain, b"/src/x"), back(&plain, b"/srcx")), (Some("/mnt/a".into()), Some("/mnt/a/x".into()), None));
        let root = Bind { at: b"/", source: b"/r", read_only: false, walk: kmview_api::Walk::No };
        assert_eq!((out(&root, b"/"), out(&root, b"/etc/x")), ("/r".into(), "/r/etc/x".into()));
        assert_eq!((back(&root, b"/r"), back(&root, b"/r/etc")), (Some("/".into()), Some("/etc".into())));
        let of_root = Bind { at: b"/unreal", source: b"/", read_only: false, walk: kmview_api::Walk::No };
        assert_eq!((out(&of_root, b"/unreal"), out(&of_root, b"/unreal/etc")), ("/".into(), "/etc".into()));
        assert_eq!((back(&of_root, b"/"), back(&of_root, b"/etc")), (Some("/unreal".into()), Some("/unreal/etc".into())));
    }
}
