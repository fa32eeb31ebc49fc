//! The `KMVIEW_STACK` format: the one parser and the one writer of the stack that the
//! launcher hands to the library (and the library to every child it execs).
//!
//! ```text
//! stack  = "kmview1" *( ";" view )        ; outermost view first
//! view   = [ entry *( "," entry ) ]        ; an empty view is allowed
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
//!
//! The grammar lives in one place, [`scan`], which allocates nothing: the library runs it while
//! a program's allocator may hold its own lock. [`Stack::parse`] builds owned values on top of it
//! for the launcher and for tools that embed kmview.

use crate::sink::Sink;
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

/// One entry of a view: a mount (a virtual path and what is behind it), a mark, or a setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The seed's test view: `PREFIX` and `PREFIX` twice over (`/unreal`, `/unreal/unreal`)
    /// both show the outer view's `/`.
    Unreal { prefix: Vec<u8> },
    /// `at` shows the outer view's `source` (read-only: every write under `at` is `EROFS`).
    /// `walk` says which paths below `at` must be resolved component by component rather than
    /// handed to the kernel (the launcher looks at the source's symlinks).
    Bind { at: Vec<u8>, source: Vec<u8>, read_only: bool, walk: Walk },
    /// The outer view's `source` is this view's `/` (`walk` as for `Bind`).
    Root { source: Vec<u8>, walk: Walk },
    /// `path` and everything below it are `ENOENT`, and `path` is gone from its parent's listing.
    Hide { path: Vec<u8> },
    /// `path` and everything below it are `EACCES`.
    Deny { path: Vec<u8> },
    /// `path` is a read-only mount of itself: every write under it is `EROFS`.
    ReadOnly { path: Vec<u8> },
    /// `path` is a symlink that leads into a mount of the view (the launcher found it where a
    /// mount was asked for: the kernel mounts on the link's target): paths through it are
    /// resolved component by component, so that they reach the mount as the kernel's would.
    Link { path: Vec<u8> },
    /// A private directory `source` (made by the launcher, removed when the command ends) at `at`.
    Tmp { at: Vec<u8>, source: Vec<u8> },
    /// `at` shows the outer view's `lower` copy-on-write: reads come from `upper` where an entry
    /// is there, else from `lower`; every change lands in `upper` (OCI layer conventions:
    /// `.wh.NAME` for a removed entry, `.wh..wh..opq` in a directory replaced wholesale) and
    /// `lower` is never written. `work` is a private scratch directory of the overlay's.
    /// `walk`: whether the lower tree holds symlinks (`All`), which the view must resolve.
    Overlay { at: Vec<u8>, lower: Vec<u8>, upper: Vec<u8>, work: Vec<u8>, walk: Walk },
    /// What an exec of a program the library cannot follow (static, setuid or setgid) does:
    /// `warn` (run it, one line on stderr), `deny` (`EACCES`) or `allow` (run it silently).
    Static { policy: StaticPolicy },
    /// Complete mode: system calls a program makes without libc (Go, inline `syscall`) are
    /// trapped (syscall user dispatch) and go through the view too. `on`: in every program;
    /// `auto`: only in those that need it (a Go program). Written `complete=on|auto`.
    Complete { mode: CompleteMode },
    /// Every path is resolved component by component in the view (no fast path): symlinks
    /// outside every mount that lead into one, or into a mark, are seen too.
    Exact,
    /// The fake root facet: processes start as `uid`:`gid`, their set*id calls succeed within
    /// the view, and owners, modes and device numbers they set are recorded in the file `state`
    /// (a path of the outer view), shared by every process of the view. `unknown_is_real`: a
    /// file nobody chowned shows its real owner (else 0:0). Written `fakeroot=UID:GID:STATE[:real]`.
    FakeRoot { uid: u32, gid: u32, state: Vec<u8>, unknown_is_real: bool },
    /// A `chroot(2)` a process made inside a view (emulated): `dir`, a path of the outer view,
    /// is this view's `/`, every path below walked. Consecutive chroot views at the end of a
    /// stack are one chroot: the next `chroot` replaces them (as the kernel's replaces the root).
    Chroot { dir: Vec<u8> },
    /// The trace facet: every call that crosses this view is written to `file` (a path of the
    /// outer view), one line per call, in `format`. Written `trace=FORMAT:FILE`.
    Trace { format: TraceFormat, file: Vec<u8> },
}

/// What a trace file holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TraceFormat {
    /// One JSON object per line (see the README's "Trace" section).
    #[default]
    Json,
    /// fsatrace's `op|path` lines.
    Fsatrace,
}

impl TraceFormat {
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Json => "json",
            TraceFormat::Fsatrace => "fsatrace",
        }
    }

    pub fn from_name(s: &[u8]) -> Option<TraceFormat> {
        match s {
            b"json" => Some(TraceFormat::Json),
            b"fsatrace" => Some(TraceFormat::Fsatrace),
            _ => None,
        }
    }
}

/// Which paths below a mount the library resolves component by component.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Walk {
    /// None: the kernel's own walk of the rest is the view's.
    #[default]
    No,
    /// Those with `..`: a symlink in the source lands shallower than it sits, so a `..` after
    /// it could climb out of the source on the host (written `dotwalk`).
    DotDot,
    /// All: a symlink in the source leads out of it (written `walk`).
    All,
}

impl Walk {
    fn word(self) -> Option<&'static [u8]> {
        match self {
            Walk::No => None,
            Walk::DotDot => Some(b"dotwalk"),
            Walk::All => Some(b"walk"),
        }
    }

    fn of(a: Option<Arg>) -> Walk {
        match a {
            Some(a) if a.eq_bytes(b"walk") => Walk::All,
            Some(a) if a.eq_bytes(b"dotwalk") => Walk::DotDot,
            _ => Walk::No,
        }
    }
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

/// The `--complete` mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompleteMode {
    /// Every program of the view has its raw system calls trapped.
    On,
    /// Only programs that make system calls without libc (Go programs) have them trapped; the
    /// rest run as in preload mode and pay nothing.
    Auto,
}

impl CompleteMode {
    pub fn name(self) -> &'static str {
        match self {
            CompleteMode::On => "on",
            CompleteMode::Auto => "auto",
        }
    }

    pub fn from_name(s: &[u8]) -> Option<CompleteMode> {
        match s {
            b"on" => Some(CompleteMode::On),
            b"auto" => Some(CompleteMode::Auto),
            _ => None,
        }
    }
}

/// The kind of an entry, as written before its `=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Unreal,
    Bind,
    RoBind,
    Root,
    Tmp,
    Hide,
    Deny,
    Ro,
    Link,
    Static,
    Exact,
    FakeRoot,
    Trace,
    Chroot,
    Overlay,
    Complete,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Unreal => "unreal",
            Kind::Bind => "bind",
            Kind::RoBind => "robind",
            Kind::Root => "root",
            Kind::Tmp => "tmp",
            Kind::Hide => "hide",
            Kind::Deny => "deny",
            Kind::Ro => "ro",
            Kind::Link => "link",
            Kind::Static => "static",
            Kind::Exact => "exact",
            Kind::FakeRoot => "fakeroot",
            Kind::Trace => "trace",
            Kind::Chroot => "chroot",
            Kind::Overlay => "overlay",
            Kind::Complete => "complete",
        }
    }

    fn from_name(s: &[u8]) -> Option<Kind> {
        [
            Kind::Unreal,
            Kind::Bind,
            Kind::RoBind,
            Kind::Root,
            Kind::Tmp,
            Kind::Hide,
            Kind::Deny,
            Kind::Ro,
            Kind::Link,
            Kind::Static,
            Kind::Exact,
            Kind::FakeRoot,
            Kind::Trace,
            Kind::Chroot,
            Kind::Overlay,
            Kind::Complete,
        ]
        .into_iter()
        .find(|k| k.name().as_bytes() == s)
    }
}

/// Why a value was refused: what is wrong, and the byte offset where it was found. No
/// allocation, so that the library can report it from anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub what: &'static str,
    pub at: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.what, self.at)
    }
}

impl std::error::Error for ParseError {}

/// Whether `b` stands for itself in an encoded argument (every other byte is `%XX`).
pub fn is_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'+' | b'~' | b'@')
}

/// Writes `arg` %-encoded.
pub fn encode_arg(out: &mut impl Sink, arg: &[u8]) -> bool {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut ok = true;
    let mut start = 0;
    for (i, &b) in arg.iter().enumerate() {
        if !is_safe(b) {
            ok &= out.put(&arg[start..i]) && out.put(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
            start = i + 1;
        }
    }
    ok && out.put(&arg[start..])
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// One %-encoded argument as it appears in a value, checked by [`Arg::check`] (or [`scan`]).
#[derive(Clone, Copy, Debug)]
pub struct Arg<'a> {
    raw: &'a [u8],
    /// Offset of `raw` in the whole value, for error positions.
    at: usize,
}

impl<'a> Arg<'a> {
    /// An argument read from `raw` (offset `at` in its value); checked before use.
    pub fn new(raw: &'a [u8], at: usize) -> Arg<'a> {
        Arg { raw, at }
    }

    /// Every byte is safe or a well-formed escape.
    pub fn check(&self) -> Result<(), ParseError> {
        let mut i = 0;
        while i < self.raw.len() {
            let b = self.raw[i];
            if b == b'%' {
                match (self.raw.get(i + 1).copied().and_then(hex), self.raw.get(i + 2).copied().and_then(hex)) {
                    (Some(_), Some(_)) => i += 3,
                    _ => return Err(ParseError { what: "bad %-escape", at: self.at + i }),
                }
            } else if is_safe(b) {
                i += 1;
            } else {
                return Err(ParseError { what: "a byte that must be %-escaped", at: self.at + i });
            }
        }
        Ok(())
    }

    /// The decoded bytes (of a checked argument).
    pub fn bytes(self) -> impl Iterator<Item = u8> + 'a {
        let raw = self.raw;
        let mut i = 0;
        std::iter::from_fn(move || {
            let b = *raw.get(i)?;
            if b == b'%' {
                let v = hex(*raw.get(i + 1)?)? << 4 | hex(*raw.get(i + 2)?)?;
                i += 3;
                Some(v)
            } else {
                i += 1;
                Some(b)
            }
        })
    }

    pub fn decoded_len(self) -> usize {
        self.raw.len() - 2 * self.raw.iter().filter(|&&b| b == b'%').count()
    }

    /// Decodes into `out` (which must hold [`Arg::decoded_len`] bytes); returns the length.
    pub fn decode_into(self, out: &mut [u8]) -> usize {
        let mut n = 0;
        for (slot, b) in out.iter_mut().zip(self.bytes()) {
            *slot = b;
            n += 1;
        }
        n
    }

    pub fn eq_bytes(self, s: &[u8]) -> bool {
        self.decoded_len() == s.len() && self.bytes().eq(s.iter().copied())
    }

    pub fn to_vec(self) -> Vec<u8> {
        self.bytes().collect()
    }

    /// Where this argument starts in its value.
    pub fn offset(self) -> usize {
        self.at
    }
}

/// Decodes one %-escaped argument (a whole string).
pub fn decode_arg(s: &[u8]) -> Result<Vec<u8>, ParseError> {
    let a = Arg::new(s, 0);
    a.check()?;
    Ok(a.to_vec())
}

/// A virtual mount path must be absolute, canonical in form (no empty, `.` or `..`
/// component, no trailing `/`) and free of NUL.
pub fn check_mount_path(p: &[u8]) -> Result<(), ParseError> {
    check_path_bytes(p.iter().copied(), 0)
}

fn check_path_bytes(bytes: impl Iterator<Item = u8>, at: usize) -> Result<(), ParseError> {
    let mut len = 0;
    let mut comp_len = 0;
    // The component so far, while it could still be `.` or `..`.
    let mut dots = 0;
    for b in bytes {
        if len == 0 && b != b'/' {
            return Err(ParseError { what: "a mount path that is not absolute", at });
        }
        len += 1;
        match b {
            0 => return Err(ParseError { what: "a mount path with a NUL byte", at }),
            b'/' if len > 1 => {
                if comp_len == 0 || dots == comp_len && comp_len <= 2 {
                    return Err(ParseError { what: "a mount path that is not canonical (empty, `.` or `..` component)", at });
                }
                comp_len = 0;
                dots = 0;
            }
            b'/' => {}
            b'.' => {
                comp_len += 1;
                dots += 1;
            }
            _ => comp_len += 1,
        }
    }
    if len == 0 {
        return Err(ParseError { what: "an empty mount path", at });
    }
    if len > 1 && (comp_len == 0 || dots == comp_len && comp_len <= 2) {
        return Err(ParseError { what: "a mount path that is not canonical (trailing `/`, `.` or `..`)", at });
    }
    Ok(())
}

/// At most this many arguments to an entry.
pub const MAX_ARGS: usize = 5;

/// The checked arguments of one entry.
#[derive(Clone, Copy, Debug)]
pub struct Args<'a> {
    items: [Option<Arg<'a>>; MAX_ARGS],
    len: usize,
}

impl<'a> Args<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Option<Arg<'a>> {
        self.items.get(i).copied().flatten()
    }

    /// Whether the entry's optional last argument is a walk word (`walk`, `dotwalk`).
    pub fn walks(&self, at: usize) -> bool {
        Walk::of(self.get(at)) != Walk::No
    }

    /// What the optional walk word at `at` says.
    pub fn walk(&self, at: usize) -> Walk {
        Walk::of(self.get(at))
    }
}

/// What [`scan`] reports, in order.
#[derive(Clone, Copy, Debug)]
pub enum Item<'a> {
    /// A new view begins (outermost first).
    View,
    /// An entry of the current view, checked.
    Entry(Kind, Args<'a>),
}

/// Reads a `KMVIEW_STACK` value, checking all of it, and reports each view and entry to `f`.
/// Allocates nothing. Anything [`Stack::encode`] would not write is an error.
pub fn scan<'a>(value: &'a [u8], mut f: impl FnMut(Item<'a>)) -> Result<(), ParseError> {
    let tag = VERSION_TAG.as_bytes();
    if value.is_empty() {
        return Err(ParseError { what: "an empty value", at: 0 });
    }
    let first_end = memchr_byte(b';', value).unwrap_or(value.len());
    if &value[..first_end] != tag {
        return Err(ParseError { what: "an unknown version tag (this library reads `kmview1`)", at: 0 });
    }
    let mut pos = first_end;
    while pos < value.len() {
        // value[pos] is the `;` before a view.
        pos += 1;
        let end = memchr_byte(b';', &value[pos..]).map_or(value.len(), |i| pos + i);
        f(Item::View);
        let mut e = pos;
        while e < end {
            let e_end = memchr_byte(b',', &value[e..end]).map_or(end, |i| e + i);
            let (kind, args) = entry(&value[e..e_end], e)?;
            f(Item::Entry(kind, args));
            e = e_end + 1;
            if e == end {
                return Err(ParseError { what: "an empty entry", at: e - 1 });
            }
        }
        pos = end;
    }
    Ok(())
}

fn memchr_byte(b: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&c| c == b)
}

/// One entry's text (`at` its offset in the value): its kind and checked arguments.
fn entry(text: &[u8], at: usize) -> Result<(Kind, Args<'_>), ParseError> {
    let (name, rest) = match memchr_byte(b'=', text) {
        Some(i) => (&text[..i], Some((&text[i + 1..], at + i + 1))),
        None => (text, None),
    };
    let kind = Kind::from_name(name).ok_or(ParseError { what: "an unknown entry kind", at })?;
    let mut args = Args { items: [None; MAX_ARGS], len: 0 };
    if let Some((mut s, mut off)) = rest {
        loop {
            let end = memchr_byte(b':', s).unwrap_or(s.len());
            if args.len == MAX_ARGS {
                return Err(ParseError { what: "too many arguments", at: off });
            }
            let a = Arg::new(&s[..end], off);
            a.check()?;
            args.items[args.len] = Some(a);
            args.len += 1;
            if end == s.len() {
                break;
            }
            s = &s[end + 1..];
            off += end + 1;
        }
    }
    check_entry(kind, &args, at)?;
    Ok((kind, args))
}

/// The arguments each kind takes.
fn check_entry(kind: Kind, args: &Args, at: usize) -> Result<(), ParseError> {
    let arity = |n: usize| {
        if args.len == n {
            Ok(())
        } else {
            Err(ParseError { what: "the wrong number of arguments", at })
        }
    };
    let path = |i: usize| match args.get(i) {
        Some(a) => check_path_bytes(a.bytes(), a.offset()),
        None => Err(ParseError { what: "a missing argument", at }),
    };
    match kind {
        Kind::Unreal => {
            arity(1)?;
            path(0)?;
            if args.get(0).is_some_and(|a| a.eq_bytes(b"/")) {
                return Err(ParseError { what: "an unreal prefix of `/`", at });
            }
            Ok(())
        }
        Kind::Bind | Kind::RoBind => {
            arity(if args.len == 3 && args.walks(2) { 3 } else { 2 })?;
            path(0)?;
            path(1)
        }
        Kind::Tmp => {
            arity(2)?;
            path(0)?;
            path(1)
        }
        Kind::Overlay => {
            arity(if args.len == 5 && args.walks(4) { 5 } else { 4 })?;
            (0..4).try_for_each(path)
        }
        Kind::Root => {
            arity(if args.len == 2 && args.walks(1) { 2 } else { 1 })?;
            path(0)
        }
        Kind::Hide | Kind::Deny | Kind::Ro | Kind::Link | Kind::Chroot => {
            arity(1)?;
            path(0)
        }
        Kind::Static => {
            arity(1)?;
            let word = args.get(0).map(|a| a.raw).unwrap_or(b"");
            StaticPolicy::from_name(word).map(|_| ()).ok_or(ParseError { what: "a static policy that is not warn, deny or allow", at })
        }
        Kind::Exact => arity(0),
        Kind::Complete => {
            arity(1)?;
            let word = args.get(0).map(|a| a.raw).unwrap_or(b"");
            CompleteMode::from_name(word).map(|_| ()).ok_or(ParseError { what: "a complete mode that is not on or auto", at })
        }
        Kind::FakeRoot => {
            arity(if args.len == 4 && args.get(3).is_some_and(|a| a.raw == b"real") { 4 } else { 3 })?;
            for i in 0..2 {
                let digits = args.get(i).map(|a| a.raw).unwrap_or(b"");
                crate::env::parse_decimal(digits).filter(|&n| n <= u32::MAX as u64).ok_or(ParseError { what: "an id that is not a number", at })?;
            }
            path(2)
        }
        Kind::Trace => {
            arity(2)?;
            let word = args.get(0).map(|a| a.raw).unwrap_or(b"");
            TraceFormat::from_name(word).ok_or(ParseError { what: "a trace format that is not json or fsatrace", at })?;
            path(1)
        }
    }
}

impl Args<'_> {
    /// Argument `i` as a decimal id (of a checked `fakeroot` entry).
    pub fn id(&self, i: usize) -> u32 {
        self.get(i).and_then(|a| crate::env::parse_decimal(a.raw)).unwrap_or(0) as u32
    }
}

impl Entry {
    fn kind(&self) -> Kind {
        match self {
            Entry::Unreal { .. } => Kind::Unreal,
            Entry::Bind { read_only: false, .. } => Kind::Bind,
            Entry::Bind { read_only: true, .. } => Kind::RoBind,
            Entry::Root { .. } => Kind::Root,
            Entry::Hide { .. } => Kind::Hide,
            Entry::Deny { .. } => Kind::Deny,
            Entry::ReadOnly { .. } => Kind::Ro,
            Entry::Link { .. } => Kind::Link,
            Entry::Tmp { .. } => Kind::Tmp,
            Entry::Static { .. } => Kind::Static,
            Entry::Exact => Kind::Exact,
            Entry::Complete { .. } => Kind::Complete,
            Entry::FakeRoot { .. } => Kind::FakeRoot,
            Entry::Trace { .. } => Kind::Trace,
            Entry::Chroot { .. } => Kind::Chroot,
            Entry::Overlay { .. } => Kind::Overlay,
        }
    }

    fn args(&self) -> Vec<std::borrow::Cow<'_, [u8]>> {
        use std::borrow::Cow::{Borrowed, Owned};
        match self {
            Entry::Unreal { prefix } => vec![Borrowed(prefix.as_slice())],
            Entry::Bind { at, source, walk, .. } => [at.as_slice(), source.as_slice()].into_iter().chain(walk.word()).map(Borrowed).collect(),
            Entry::Tmp { at, source } => vec![Borrowed(at.as_slice()), Borrowed(source.as_slice())],
            Entry::Overlay { at, lower, upper, work, walk } => {
                [at.as_slice(), lower, upper, work].into_iter().chain(walk.word()).map(Borrowed).collect()
            }
            Entry::Root { source, walk } => [source.as_slice()].into_iter().chain(walk.word()).map(Borrowed).collect(),
            Entry::Hide { path } | Entry::Deny { path } | Entry::ReadOnly { path } | Entry::Link { path } | Entry::Chroot { dir: path } => {
                vec![Borrowed(path.as_slice())]
            }
            Entry::Static { policy } => vec![Borrowed(policy.name().as_bytes())],
            Entry::Exact => vec![],
            Entry::Complete { mode } => vec![Borrowed(mode.name().as_bytes())],
            Entry::FakeRoot { uid, gid, state, unknown_is_real } => {
                [Owned(uid.to_string().into_bytes()), Owned(gid.to_string().into_bytes()), Borrowed(state.as_slice())]
                    .into_iter()
                    .chain(unknown_is_real.then_some(Borrowed(&b"real"[..])))
                    .collect()
            }
            Entry::Trace { format, file } => vec![Borrowed(format.name().as_bytes()), Borrowed(file.as_slice())],
        }
    }

    /// The owned entry for a checked kind and its arguments.
    fn from_scan(kind: Kind, args: &Args) -> Entry {
        let arg = |i: usize| args.get(i).map(|a| a.to_vec()).unwrap_or_default();
        match kind {
            Kind::Unreal => Entry::Unreal { prefix: arg(0) },
            Kind::Bind | Kind::RoBind => Entry::Bind { at: arg(0), source: arg(1), read_only: kind == Kind::RoBind, walk: args.walk(2) },
            Kind::Tmp => Entry::Tmp { at: arg(0), source: arg(1) },
            Kind::Overlay => Entry::Overlay { at: arg(0), lower: arg(1), upper: arg(2), work: arg(3), walk: args.walk(4) },
            Kind::Root => Entry::Root { source: arg(0), walk: args.walk(1) },
            Kind::Hide => Entry::Hide { path: arg(0) },
            Kind::Deny => Entry::Deny { path: arg(0) },
            Kind::Ro => Entry::ReadOnly { path: arg(0) },
            Kind::Link => Entry::Link { path: arg(0) },
            Kind::Static => Entry::Static { policy: StaticPolicy::from_name(&arg(0)).unwrap_or(StaticPolicy::Warn) },
            Kind::Exact => Entry::Exact,
            Kind::Complete => Entry::Complete { mode: CompleteMode::from_name(&arg(0)).unwrap_or(CompleteMode::On) },
            Kind::FakeRoot => Entry::FakeRoot { uid: args.id(0), gid: args.id(1), state: arg(2), unknown_is_real: args.len() == 4 },
            Kind::Chroot => Entry::Chroot { dir: arg(0) },
            Kind::Trace => Entry::Trace { format: TraceFormat::from_name(&arg(0)).unwrap_or_default(), file: arg(1) },
        }
    }
}

impl Stack {
    /// Writes the stack in the `KMVIEW_STACK` format.
    pub fn encode(&self) -> String {
        let mut out: Vec<u8> = VERSION_TAG.as_bytes().to_vec();
        for view in &self.views {
            out.push(b';');
            for (i, entry) in view.entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(entry.kind().name().as_bytes());
                for (j, arg) in entry.args().into_iter().enumerate() {
                    out.push(if j == 0 { b'=' } else { b':' });
                    encode_arg(&mut out, &arg);
                }
            }
        }
        // Every byte written is ASCII.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Parses a `KMVIEW_STACK` value. Anything not written by [`Stack::encode`] is an error.
    pub fn parse(s: &[u8]) -> Result<Stack, ParseError> {
        let mut views: Vec<View> = Vec::new();
        scan(s, |item| match item {
            Item::View => views.push(View::default()),
            Item::Entry(kind, args) => {
                if let Some(v) = views.last_mut() {
                    v.entries.push(Entry::from_scan(kind, &args));
                }
            }
        })?;
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
                View {
                    entries: vec![
                        unreal(b"/a:b,c"),
                        Entry::Static { policy: StaticPolicy::Deny },
                        Entry::Exact,
                        Entry::FakeRoot { uid: 0, gid: 4294967295, state: b"/tmp/s t".to_vec(), unknown_is_real: false },
                        Entry::FakeRoot { uid: 5, gid: 6, state: b"/s".to_vec(), unknown_is_real: true },
                    ],
                },
            ],
        };
        assert_eq!(s.encode(), "kmview1;unreal=/unreal;unreal=/a%3Ab%2Cc,static=deny,exact,fakeroot=0:4294967295:/tmp/s%20t,fakeroot=5:6:/s:real");
        assert_eq!(Stack::parse(s.encode().as_bytes()).unwrap(), s);
    }

    #[test]
    fn complete_mode_is_written_and_checked() {
        let s = Stack { views: vec![View { entries: vec![unreal(b"/u"), Entry::Complete { mode: CompleteMode::Auto }] }] };
        assert_eq!(s.encode(), "kmview1;unreal=/u,complete=auto");
        assert_eq!(Stack::parse(b"kmview1;complete=on").unwrap().views[0].entries, [Entry::Complete { mode: CompleteMode::On }]);
        for bad in [&b"kmview1;complete=yes"[..], b"kmview1;complete", b"kmview1;complete=on:auto"] {
            assert!(Stack::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
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
            b"kmview1x",
            b"kmview1;unreal=relative",
            b"kmview1;unreal=/a/../b",
            b"kmview1;unreal=/a/./b",
            b"kmview1;unreal=/a//b",
            b"kmview1;unreal=/a/",
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
            b"kmview1;bind=/a:/b:walk:x",
            b"kmview1;hide=x",
            b"kmview1;static",
            b"kmview1;exact=/x",
            b"kmview1;fakeroot=0:0",
            b"kmview1;fakeroot=x:0:/s",
            b"kmview1;fakeroot=0:4294967296:/s",
            b"kmview1;fakeroot=0:0:s",
            b"kmview1;fakeroot=0:0:/s:unreal",
            b"kmview1;trace=/t",
            b"kmview1;trace=xml:/t",
            b"kmview1;trace=json:t",
            b"kmview1;unreal=/a,",
            b"kmview1;unreal=/a,,unreal=/b",
            b"\xff",
        ] {
            assert!(Stack::parse(bad).is_err(), "accepted {:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn an_error_says_where() {
        let e = Stack::parse(b"kmview1;unreal=/ok;bind=/a:/b%zz").unwrap_err();
        assert_eq!((e.what, e.at), ("bad %-escape", 29));
    }

    #[test]
    fn mount_paths_are_checked_as_written() {
        for good in [&b"/"[..], b"/a", b"/a/b", b"/.x", b"/..x", b"/...", b"/a/.b/c."] {
            assert!(check_mount_path(good).is_ok(), "{:?}", String::from_utf8_lossy(good));
        }
        for bad in [&b""[..], b"a", b"/a/", b"//", b"/.", b"/..", b"/a/./b", b"/a/../b", b"/a\0b"] {
            assert!(check_mount_path(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
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
        fn every_kind_round_trips(a in mount_path(), b in mount_path(), ro in any::<bool>(), w in 0..3u8) {
            let walk = [Walk::No, Walk::DotDot, Walk::All][w as usize];
            let stack = Stack { views: vec![View { entries: vec![
                Entry::Bind { at: a.clone(), source: b.clone(), read_only: ro, walk },
                Entry::Root { source: b.clone(), walk },
                Entry::Hide { path: a.clone() },
                Entry::Deny { path: b.clone() },
                Entry::ReadOnly { path: a.clone() },
                Entry::Link { path: b.clone() },
                Entry::Tmp { at: a.clone(), source: b.clone() },
                Entry::Exact,
                Entry::Complete { mode: if ro { CompleteMode::On } else { CompleteMode::Auto } },
                Entry::Chroot { dir: b.clone() },
                Entry::Trace { format: if ro { TraceFormat::Fsatrace } else { TraceFormat::Json }, file: a.clone() },
            ] }] };
            let text = stack.encode();
            prop_assert_eq!(Stack::parse(text.as_bytes()).unwrap(), stack);
        }

        #[test]
        fn the_scan_never_panics_and_agrees_with_parse(bytes in proptest::collection::vec(any::<u8>(), 0..60)) {
            let mut v = b"kmview1;".to_vec();
            v.extend(bytes);
            let mut n = 0;
            let scanned = scan(&v, |_| n += 1);
            prop_assert_eq!(scanned.is_ok(), Stack::parse(&v).is_ok());
        }
    }
}
