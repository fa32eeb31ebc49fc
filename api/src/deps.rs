//! `--deps`: what a command did to each path, from its JSON trace, as one sorted document.
//!
//! ```text
//! {"paths":[
//!  {"path":"/build/src/main.c","host":"/home/me/proj/main.c","read":true},
//!  {"path":"/build/src/main.o","host":"/home/me/proj/main.o","written":true,"probed":true},
//!  {"path":"/usr/include/nothere.h","host":"/usr/include/nothere.h","missing":true}
//! ]}
//! ```
//!
//! `path` is the view's name (absolute, `..` taken lexically), `host` the name the view handed
//! outward (the host's, for a view run from outside any other); each of `read`, `written`,
//! `executed`, `listed`, `removed`, `renamed_from`, `renamed_to`, `probed` (looked at and found:
//! stat, access, readlink) and `missing` (looked for and not found: `ENOENT` or `ENOTDIR`) is
//! there only when true. Paths are byte strings: a byte that is not UTF-8 is written `\udcXX`.

use crate::trace::{self, Event};
use std::collections::BTreeMap;
use std::path::Path;

/// What happened to one path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// The name the view handed outward (empty if the view refused every call on it).
    pub host: Vec<u8>,
    pub read: bool,
    pub written: bool,
    pub executed: bool,
    pub listed: bool,
    pub removed: bool,
    pub renamed_from: bool,
    pub renamed_to: bool,
    pub missing: bool,
    pub probed: bool,
}

/// Every path a command touched, by its name in the view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deps {
    pub paths: BTreeMap<Vec<u8>, Access>,
}

impl Deps {
    /// Reads a JSON trace file.
    pub fn from_trace_file(path: &Path) -> std::io::Result<Deps> {
        Ok(Deps::from_events(&trace::read_file(path)?))
    }

    pub fn from_events(events: &[Event]) -> Deps {
        let mut d = Deps::default();
        for ev in events {
            d.add(ev);
        }
        d
    }

    fn entry(&mut self, view: &[u8], out: Option<&Vec<u8>>) -> &mut Access {
        let a = self.paths.entry(view.to_vec()).or_default();
        if a.host.is_empty() {
            if let Some(o) = out {
                a.host = o.clone();
            }
        }
        a
    }

    /// Counts one event in.
    pub fn add(&mut self, ev: &Event) {
        if ev.view.is_empty() {
            return;
        }
        let missing = matches!(ev.errno.as_deref(), Some("ENOENT") | Some("ENOTDIR"));
        if ev.failed() {
            if missing {
                self.entry(&ev.view, ev.out.as_ref()).missing = true;
            }
            return;
        }
        let second = ev.view2.as_ref().map(|v| (v.clone(), ev.out2.clone()));
        let a = self.entry(&ev.view, ev.out.as_ref());
        match ev.op.as_str() {
            "read" => a.read = true,
            "write" => a.written = true,
            "exec" => a.executed = true,
            "list" => a.listed = true,
            "remove" => a.removed = true,
            "look" => a.probed = true,
            "rename" => {
                a.renamed_from = true;
                if let Some((v, o)) = &second {
                    self.entry(v, o.as_ref()).renamed_to = true;
                }
            }
            "link" => {
                a.probed = true;
                if let Some((v, o)) = &second {
                    self.entry(v, o.as_ref()).written = true;
                }
            }
            _ => {}
        }
    }

    /// The document, sorted by path (see the module's documentation).
    pub fn to_json(&self) -> String {
        let mut s = String::from("{\"paths\":[");
        for (i, (path, a)) in self.paths.iter().enumerate() {
            s.push_str(if i == 0 { "\n {" } else { ",\n {" });
            s.push_str("\"path\":");
            json_string(&mut s, path);
            s.push_str(",\"host\":");
            json_string(&mut s, &a.host);
            for (name, on) in [
                ("read", a.read),
                ("written", a.written),
                ("executed", a.executed),
                ("listed", a.listed),
                ("removed", a.removed),
                ("renamed_from", a.renamed_from),
                ("renamed_to", a.renamed_to),
                ("probed", a.probed),
                ("missing", a.missing),
            ] {
                if on {
                    s.push_str(",\"");
                    s.push_str(name);
                    s.push_str("\":true");
                }
            }
            s.push('}');
        }
        s.push_str("\n]}\n");
        s
    }
}

/// A JSON string of arbitrary bytes (the trace's convention: `\udcXX` for a non-UTF-8 byte).
pub fn json_string(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            out.push_str(&format!("\\udc{b:02x}"));
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(op: &str, view: &str, errno: Option<&str>) -> Event {
        Event {
            op: op.into(),
            view: view.into(),
            out: Some(format!("/host{view}").into_bytes()),
            errno: errno.map(Into::into),
            result: if errno.is_some() { -1 } else { 0 },
            ..Event::default()
        }
    }

    #[test]
    fn sorts_and_classifies() {
        let mut rename = ev("rename", "/b/old", None);
        rename.view2 = Some(b"/b/new".to_vec());
        rename.out2 = Some(b"/host/b/new".to_vec());
        let d = Deps::from_events(&[
            ev("read", "/b/z.c", None),
            ev("look", "/b/a.h", Some("ENOENT")),
            ev("exec", "/usr/bin/cc", None),
            ev("write", "/b/z.o", None),
            ev("look", "/b/z.o", None),
            ev("read", "/b/secret", Some("EACCES")),
            rename,
        ]);
        let keys: Vec<&[u8]> = d.paths.keys().map(|k| k.as_slice()).collect();
        assert_eq!(keys, [&b"/b/a.h"[..], b"/b/new", b"/b/old", b"/b/z.c", b"/b/z.o", b"/usr/bin/cc"]);
        assert!(d.paths[&b"/b/a.h"[..]].missing);
        assert!(d.paths[&b"/b/z.o"[..]].written && d.paths[&b"/b/z.o"[..]].probed);
        assert!(d.paths[&b"/b/old"[..]].renamed_from && d.paths[&b"/b/new"[..]].renamed_to);
        assert_eq!(d.paths[&b"/b/new"[..]].host, b"/host/b/new");
        let j = d.to_json();
        assert!(j.contains(r#"{"path":"/b/z.c","host":"/host/b/z.c","read":true}"#), "{j}");
        assert!(!j.contains("secret"), "a refused read is neither a dependency nor missing: {j}");
    }

    #[test]
    fn odd_bytes_round_trip_through_the_document() {
        let mut s = String::new();
        json_string(&mut s, b"a\xffb\n\"");
        assert_eq!(s, r#""a\udcffb\n\"""#);
        let back = crate::trace::parse_line(format!("{{\"path\":{s}}}").as_bytes()).unwrap();
        assert_eq!(back.path, b"a\xffb\n\"");
    }
}
