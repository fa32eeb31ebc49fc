//! The reader of `src/hooks/table.in`, shared by `build.rs` (which generates the shells from it)
//! and the coverage test (which checks that every row is exported and exercised). Plain Rust,
//! no dependencies.

/// One row of the table.
#[derive(Clone, Debug)]
pub struct Row {
    pub family: String,
    pub name: String,
    /// (name, type) in order; types as written (`Path`, `Dir`, `Fd` included).
    pub args: Vec<(String, String)>,
    pub ret: String,
    /// (key, value) in order; `{...}` values without their braces.
    pub attrs: Vec<(String, Option<String>)>,
    pub line: usize,
}

impl Row {
    pub fn attr(&self, key: &str) -> Option<Option<&str>> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_deref())
    }

    pub fn has(&self, key: &str) -> bool {
        self.attr(key).is_some()
    }

    /// How the shell is made.
    pub fn kind(&self) -> Kind {
        if self.has("asm") {
            Kind::Asm
        } else if self.has("custom") {
            Kind::Custom
        } else if self.has("pass") {
            Kind::Pass
        } else if self.has("fdwrite") {
            Kind::FdWrite
        } else {
            Kind::Plain
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Generated whole: route the one `Path` argument, call libc.
    Plain,
    /// A descriptor-based change, refused under a read-only mount.
    FdWrite,
    /// Calls `hooks::FAMILY::NAME`, written by hand.
    Custom,
    /// Straight to libc.
    Pass,
    /// An assembly shell elsewhere.
    Asm,
}

/// Splits at whitespace outside `{}` and `()`.
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '{' | '(' => depth += 1,
            '}' | ')' => depth -= 1,
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Splits at commas outside parentheses.
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' | '<' => depth += 1,
            ')' | '>' if depth > 0 => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            out.push(std::mem::take(&mut cur).trim().to_string());
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

pub fn parse(text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let err = |m: &str| format!("table.in:{line}: {m}: {raw}");
        let (sig, attrs) = l.split_once('|').ok_or_else(|| err("no `|`"))?;
        let sig = sig.trim();
        let (family, rest) = sig.split_once(char::is_whitespace).ok_or_else(|| err("no family"))?;
        let rest = rest.trim();
        let open = rest.find('(').ok_or_else(|| err("no `(`"))?;
        // The `)` that closes the argument list (types may hold parentheses of their own).
        let mut depth = 0i32;
        let mut close = None;
        for (i, c) in rest.char_indices().skip(open) {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let close = close.ok_or_else(|| err("no `)`"))?;
        let name = rest[..open].trim().to_string();
        let ret = rest[close + 1..].trim().strip_prefix("->").ok_or_else(|| err("no `->`"))?.trim().to_string();
        let mut args = Vec::new();
        for a in split_args(&rest[open + 1..close]) {
            let (n, t) = a.split_once(':').ok_or_else(|| err("an argument without a type"))?;
            args.push((n.trim().to_string(), t.trim().to_string()));
        }
        let mut parsed = Vec::new();
        for t in tokens(attrs) {
            match t.split_once('=') {
                Some((k, v)) => {
                    let v = v.strip_prefix('{').and_then(|v| v.strip_suffix('}')).unwrap_or(v);
                    parsed.push((k.to_string(), Some(v.to_string())));
                }
                None => parsed.push((t, None)),
            }
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
            return Err(err("a bad name"));
        }
        rows.push(Row { family: family.to_string(), name, args, ret, attrs: parsed, line });
    }
    Ok(rows)
}
