//! The `KMVIEW_STACK` format: the one parser and the one writer of the stack that the
//! launcher hands to the library (and the library to every child it execs).
//!
//! ```text
//! stack  = "kmview1" *( ";" view )        ; outermost view first
//! view   = entry *( "," entry )
//! entry  = kind [ "=" arg *( ":" arg ) ]
//! kind   = 1*( %x61-7A / DIGIT / "-" )     ; lower-case word, e.g. "unreal", "bind"
//! arg    = *( safe / "%" HEXDIG HEXDIG )    ; any byte string, percent-encoded
//! safe   = ALPHA / DIGIT / "/" / "." / "_" / "-" / "+" / "~" / "@"
//! ```
//!
//! Every byte outside `safe` is written as `%XX` (upper-case hex), so a path with `:`, `,`, `;`,
//! `=`, `%`, newlines or non-UTF-8 bytes round-trips exactly. The version tag comes first so a
//! future format can be told apart; an unknown tag, kind or a malformed escape is an error, and
//! the library fails closed on it.

use std::fmt;

/// The version tag every `KMVIEW_STACK` value starts with.
pub const VERSION_TAG: &str = "kmview1";

/// A stack: the ordered views a process lives in, outermost first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stack {
    pub views: Vec<View>,
}

/// One view: what one `kmview` invocation builds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    pub entries: Vec<Entry>,
}

/// One entry of a view: a mount (a virtual path and what is behind it) or, later, a facet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The seed's test view: `PREFIX` and `PREFIX` twice over (`/unreal`, `/unreal/unreal`)
    /// both show the outer view's `/`.
    Unreal { prefix: Vec<u8> },
    /// `at` shows the outer view's `source` (read-only: every write under `at` is `EROFS`).
    /// `walk`: the source holds symlinks that lead out of it, so paths below `at` are resolved
    /// component by component rather than handed to the kernel.
    Bind { at: Vec<u8>, source: Vec<u8>, read_only: bool, walk: bool },
    /// The outer view's `source` is this view's `/` (`walk` as for `Bind`).
    Root { source: Vec<u8>, walk: bool },
    /// `path` and everything below it are `ENOENT`, and `path` is gone from its parent's listing.
    Hide { path: Vec<u8> },
    /// `path` and everything below it are `EACCES`.
    Deny { path: Vec<u8> },
    /// Every write under `path` is `EROFS`.
    ReadOnly { path: Vec<u8> },
    /// A private directory `source` (made by the launcher, removed when the command ends) at `at`.
    Tmp { at: Vec<u8>, source: Vec<u8> },
    /// What an exec of a program the library cannot follow (static, setuid or setgid) does:
    /// `warn` (run it, one line on stderr), `deny` (`EACCES`) or `allow` (run it silently).
    Static { policy: StaticPolicy },
}

/// The `--static` policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaticPolicy {
    Warn,
    Deny,
    Allow,
}

impl StaticPolicy {
    pub fn name(self) -> &'static str {
        match self {
            StaticPolicy::Warn => "warn",
            StaticPolicy::Deny => "deny",
            StaticPolicy::Allow => "allow",
        }
    }

    pub fn from_name(s: &[u8]) -> Option<StaticPolicy> {
        match s {
            b"warn" => Some(StaticPolicy::Warn),
            b"deny" => Some(StaticPolicy::Deny),
            b"allow" => Some(StaticPolicy::Allow),
            _ => None,
        }
    }
}

impl Entry {
    fn kind(&self) -> &'static str {
        match self {
            Entry::Unreal { .. } => "unreal",
            Entry::Bind { read_only: false, .. } => "bind",
            Entry::Bind { read_only: true, .. } => "robind",
            Entry::Root { .. } => "root",
            Entry::Hide { .. } => "hide",
            Entry::Deny { .. } => "deny",
            Entry::ReadOnly { .. } => "ro",
            Entry::Tmp { .. } => "tmp",
            Entry::Static { .. } => "static",
        }
    }

    fn args(&self) -> Vec<&[u8]> {
        match self {
            Entry::Unreal { prefix } => vec![prefix.as_slice()],
            Entry::Bind { at, source, walk: true, .. } => vec![at.as_slice(), source.as_slice(), b"walk"],
            Entry::Bind { at, source, .. } | Entry::Tmp { at, source } => vec![at.as_slice(), source.as_slice()],
            Entry::Root { source, walk: true } => vec![source.as_slice(), b"walk"],
            Entry::Root { source, walk: false } => vec![source.as_slice()],
            Entry::Hide { path } | Entry::Deny { path } | Entry::ReadOnly { path } => vec![path.as_slice()],
            Entry::Static { policy } => vec![policy.name().as_bytes()],
        }
    }

    fn from_parts(kind: &str, args: Vec<Vec<u8>>) -> Result<Entry, ParseError> {
        let want = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(ParseError(format!("entry `{kind}` takes {n} argument(s), found {}", args.len())))
            }
        };
        match kind {
            "unreal" => {
                want(1)?;
                let prefix = args.into_iter().next().unwrap_or_default();
                check_mount_path(&prefix)?;
                if prefix == b"/" {
                    return Err(ParseError("unreal prefix must not be `/`".into()));
                }
                Ok(Entry::Unreal { prefix })
            }
            "bind" | "robind" | "tmp" => {
                let walk = kind != "tmp" && args.len() == 3 && args[2] == b"walk";
                want(if walk { 3 } else { 2 })?;
                let mut it = args.into_iter();
                let (at, source) = (it.next().unwrap_or_default(), it.next().unwrap_or_default());
                check_mount_path(&at)?;
                check_mount_path(&source)?;
                Ok(match kind {
                    "tmp" => Entry::Tmp { at, source },
                    _ => Entry::Bind { at, source, read_only: kind == "robind", walk },
                })
            }
            "root" => {
                let walk = args.len() == 2 && args[1] == b"walk";
                want(if walk { 2 } else { 1 })?;
                let source = args.into_iter().next().unwrap_or_default();
                check_mount_path(&source)?;
                Ok(Entry::Root { source, walk })
            }
            "hide" | "deny" | "ro" => {
                want(1)?;
                let path = args.into_iter().next().unwrap_or_default();
                check_mount_path(&path)?;
                Ok(match kind {
                    "hide" => Entry::Hide { path },
                    "deny" => Entry::Deny { path },
                    _ => Entry::ReadOnly { path },
                })
            }
            "static" => {
                want(1)?;
                let arg = args.into_iter().next().unwrap_or_default();
                StaticPolicy::from_name(&arg)
                    .map(|policy| Entry::Static { policy })
                    .ok_or_else(|| ParseError(format!("static policy `{}` is not warn, deny or allow", String::from_utf8_lossy(&arg))))
            }
            other => Err(ParseError(format!("unknown entry kind `{other}`"))),
        }
    }
}

/// A virtual mount path must be absolute, canonical in form (no empty, `.` or `..`
/// component, no trailing `/`) and free of NUL.
pub fn check_mount_path(p: &[u8]) -> Result<(), ParseError> {
    if p.first() != Some(&b'/') {
        return Err(ParseError(format!("mount path `{}` is not absolute", String::from_utf8_lossy(p))));
    }
    if p.contains(&0) {
        return Err(ParseError("mount path contains a NUL byte".into()));
    }
    if p.len() > 1 {
        for comp in p[1..].split(|&b| b == b'/') {
            if comp.is_empty() || comp == b"." || comp == b".." {
                return Err(ParseError(format!(
                    "mount path `{}` is not canonical (empty, `.` or `..` component, or trailing `/`)",
                    String::from_utf8_lossy(p)
                )));
            }
        }
    }
    Ok(())
}

/// Why a `KMVIEW_STACK` value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// Whether `b` stands for itself in an encoded argument (every other byte is `%XX`).
pub fn is_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'+' | b'~' | b'@')
}

fn encode_arg(out: &mut String, arg: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in arg {
        if is_safe(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// Decodes one %-escaped argument.
pub fn decode_arg(s: &str) -> Result<Vec<u8>, ParseError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| ParseError(format!("bad %-escape in `{s}`")))?;
            out.push(hex);
            i += 3;
        } else if is_safe(b) {
            out.push(b);
            i += 1;
        } else {
            return Err(ParseError(format!("byte {:?} must be %-escaped in `{s}`", b as char)));
        }
    }
    Ok(out)
}

impl Stack {
    /// Writes the stack in the `KMVIEW_STACK` format.
    pub fn encode(&self) -> String {
        let mut out = String::from(VERSION_TAG);
        for view in &self.views {
            out.push(';');
            for (i, entry) in view.entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(entry.kind());
                for (j, arg) in entry.args().into_iter().enumerate() {
                    out.push(if j == 0 { '=' } else { ':' });
                    encode_arg(&mut out, arg);
                }
            }
        }
        out
    }

    /// Parses a `KMVIEW_STACK` value. Anything not written by [`Stack::encode`] is an error.
    pub fn parse(s: &[u8]) -> Result<Stack, ParseError> {
        let s = std::str::from_utf8(s).map_err(|_| ParseError("not ASCII".into()))?;
        let mut parts = s.split(';');
        match parts.next() {
            Some(VERSION_TAG) => {}
            Some(other) => {
                return Err(ParseError(format!("unknown version tag `{other}` (this library reads `{VERSION_TAG}`)")))
            }
            None => return Err(ParseError("empty".into())),
        }
        let mut views = Vec::new();
        for view_text in parts {
            let mut entries = Vec::new();
            // An empty view (no entries) is written as nothing between its separators.
            for entry_text in view_text.split(',').filter(|_| !view_text.is_empty()) {
                let (kind, args) = match entry_text.split_once('=') {
                    Some((k, rest)) => (k, rest.split(':').map(decode_arg).collect::<Result<Vec<_>, _>>()?),
                    None => (entry_text, Vec::new()),
                };
                if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
                    return Err(ParseError(format!("bad entry `{entry_text}`")));
                }
                entries.push(Entry::from_parts(kind, args)?);
            }
            views.push(View { entries });
        }
        Ok(Stack { views })
    }

    /// The stack with `view` pushed as the new innermost view.
    pub fn pushed(&self, view: View) -> Stack {
        let mut views = self.views.clone();
        views.push(view);
        Stack { views }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unreal(p: &[u8]) -> Entry {
        Entry::Unreal { prefix: p.to_vec() }
    }

    #[test]
    fn encodes_the_documented_example() {
        let s = Stack {
            views: vec![
                View { entries: vec![unreal(b"/unreal")] },
                View { entries: vec![unreal(b"/a:b,c"), Entry::Static { policy: StaticPolicy::Deny }] },
            ],
        };
        assert_eq!(s.encode(), "kmview1;unreal=/unreal;unreal=/a%3Ab%2Cc,static=deny");
        assert_eq!(Stack::parse(s.encode().as_bytes()).unwrap(), s);
    }

    #[test]
    fn empty_stack_and_empty_views_round_trip() {
        assert_eq!(Stack::parse(b"kmview1").unwrap(), Stack::default());
        let two_empty = Stack { views: vec![View::default(), View::default()] };
        assert_eq!(two_empty.encode(), "kmview1;;");
        assert_eq!(Stack::parse(b"kmview1;;").unwrap(), two_empty);
    }

    #[test]
    fn refuses_malformed_values() {
        for bad in [
            &b""[..],
            b"kmview2;unreal=/unreal",
            b"kmview1;unreal=relative",
            b"kmview1;unreal=/a/../b",
            b"kmview1;unreal=/x%2",
            b"kmview1;unreal=/x%zz",
            b"kmview1;unreal=/x y",
            b"kmview1;warp=/x",
            b"kmview1;unreal",
            b"kmview1;unreal=/a:/b",
            b"kmview1;unreal=/",
            b"kmview1;unreal=/x%00y",
            b"kmview1;static=maybe",
            b"kmview1;bind=/a",
            b"kmview1;bind=/a:rel",
            b"kmview1;root=/a:/b",
            b"kmview1;bind=/a:/b:fast",
            b"kmview1;hide=x",
            b"kmview1;static",
            b"\xff",
        ] {
            assert!(Stack::parse(bad).is_err(), "accepted {:?}", String::from_utf8_lossy(bad));
        }
    }

    fn mount_path() -> impl Strategy<Value = Vec<u8>> {
        // Components of arbitrary non-NUL, non-slash bytes, never `.` or `..`.
        let comp = proptest::collection::vec(1u8..=255, 1..12)
            .prop_filter("no slash", |c| !c.contains(&b'/'))
            .prop_filter("not . or ..", |c| c != b"." && c != b"..");
        proptest::collection::vec(comp, 1..5).prop_map(|comps| {
            let mut p = Vec::new();
            for c in comps {
                p.push(b'/');
                p.extend(c);
            }
            p
        })
    }

    proptest! {
        #[test]
        fn any_byte_string_path_round_trips(paths in proptest::collection::vec(proptest::collection::vec(mount_path(), 0..3), 0..4)) {
            let stack = Stack { views: paths.iter().map(|v| View { entries: v.iter().map(|p| unreal(p)).collect() }).collect() };
            let text = stack.encode();
            prop_assert!(text.bytes().all(|b| b.is_ascii_graphic()));
            prop_assert_eq!(Stack::parse(text.as_bytes()).unwrap(), stack);
        }

        #[test]
        fn every_kind_round_trips(a in mount_path(), b in mount_path(), ro in any::<bool>(), walk in any::<bool>()) {
            let stack = Stack { views: vec![View { entries: vec![
                Entry::Bind { at: a.clone(), source: b.clone(), read_only: ro, walk },
                Entry::Root { source: b.clone(), walk },
                Entry::Hide { path: a.clone() },
                Entry::Deny { path: b.clone() },
                Entry::ReadOnly { path: a.clone() },
                Entry::Tmp { at: a.clone(), source: b.clone() },
            ] }] };
            let text = stack.encode();
            prop_assert_eq!(Stack::parse(text.as_bytes()).unwrap(), stack);
        }
    }
}
