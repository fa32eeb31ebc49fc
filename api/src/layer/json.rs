//! The JSON form of a diff, written by hand: the crate has no dependencies, and the shape is
//! flat.

use super::Item;

/// A JSON array, one object per [`Item`] and per line: `"path"` (relative, no trailing `/`),
/// `"change"` ([`super::Change::word`]), `"kind"` (`file`, `dir`, `symlink`, `other`; absent for
/// a removal), and for `mode` and `owner` changes `"from"` and `"to"` as the short form shows
/// them (`"0644"`, `"1000:1000"`). A path that is not UTF-8 is written lossily.
///
/// ```
/// use kmview_api::layer::{to_json, Change, Item, Kind};
/// let items = [Item { path: "bin/run".into(), kind: Some(Kind::File), change: Change::Mode { from: 0o644, to: 0o755 } }];
/// assert_eq!(
///     to_json(&items),
///     "[\n  {\"path\":\"bin/run\",\"change\":\"mode\",\"kind\":\"file\",\"from\":\"0644\",\"to\":\"0755\"}\n]\n"
/// );
/// assert_eq!(to_json(&[]), "[]\n");
/// ```
pub fn to_json(items: &[Item]) -> String {
    if items.is_empty() {
        return "[]\n".into();
    }
    let mut out = String::from("[\n");
    for (n, item) in items.iter().enumerate() {
        out += "  {\"path\":";
        string(&mut out, &item.path.to_string_lossy());
        out += ",\"change\":";
        string(&mut out, item.change.word());
        if let Some(kind) = item.kind {
            out += ",\"kind\":";
            string(&mut out, kind.word());
        }
        if let Some((from, to)) = item.change.from_to() {
            out += ",\"from\":";
            string(&mut out, &from);
            out += ",\"to\":";
            string(&mut out, &to);
        }
        out += if n + 1 < items.len() { "},\n" } else { "}\n" };
    }
    out + "]\n"
}

/// A JSON string: quotes, backslashes and control characters escaped.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
