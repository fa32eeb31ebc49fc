//! `chroot`'s command line (coreutils' and fakechroot's `chroot DIR [COMMAND [ARG]...]`) as
//! kmview's options: `DIR` is the view's root, the command starts in its `/`, and with no
//! command it is `$SHELL -i` (else `/bin/sh -i`), as coreutils' `chroot` does. Inside a view a
//! program's own `chroot(2)` is emulated the same way (a new innermost view), so a flow that
//! calls `chroot` again and again (debootstrap's and mmdebstrap's fakechroot modes) stays in
//! the view throughout.

use std::ffi::OsString;

/// kmview's arguments for `chroot ARGS`, or the one-line reason they are not understood.
pub fn translate(args: &[OsString]) -> Result<Vec<OsString>, String> {
    let mut rest = args.iter().peekable();
    let mut skip_chdir = false;
    while let Some(a) = rest.peek() {
        match a.to_str() {
            Some("--") => {
                rest.next();
                break;
            }
            Some("--skip-chdir") => skip_chdir = true,
            Some(o) if o.starts_with("--userspec") || o.starts_with("--groups") => {
                return Err(format!("{o}: not supported (use kmview -0 --uid N --gid N for a fake identity)"));
            }
            Some("-h" | "--help") => {
                return Err("usage: chroot [--skip-chdir] DIR [COMMAND [ARG]...] (DIR becomes the view's root)".to_string());
            }
            Some(o) if o.starts_with('-') && o.len() > 1 => return Err(format!("unknown option {o}")),
            _ => break,
        }
        rest.next();
    }
    let dir = rest.next().ok_or("missing operand: the new root directory")?;
    let mut out: Vec<OsString> = vec!["--root".into(), dir.clone()];
    if !skip_chdir {
        out.extend(["--cwd".into(), "/".into()]);
    }
    out.push("--".into());
    let command: Vec<OsString> = rest.cloned().collect();
    if command.is_empty() {
        out.push(std::env::var_os("SHELL").unwrap_or_else(|| "/bin/sh".into()));
        out.push("-i".into());
    } else {
        out.extend(command);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(args: &[&str]) -> Result<Vec<String>, String> {
        translate(&args.iter().map(OsString::from).collect::<Vec<_>>()).map(|v| v.into_iter().map(|a| a.into_string().unwrap()).collect())
    }

    #[test]
    fn chroots_command_line_as_kmviews() {
        assert_eq!(t(&["/r", "ls", "-l"]).unwrap(), ["--root", "/r", "--cwd", "/", "--", "ls", "-l"]);
        assert_eq!(t(&["--skip-chdir", "--", "/r", "true"]).unwrap(), ["--root", "/r", "--", "true"]);
        assert!(t(&[]).is_err());
        assert!(t(&["--userspec=1:1", "/r"]).unwrap_err().contains("--userspec"));
        assert!(t(&["-x", "/r"]).unwrap_err().contains("-x"));
    }
}
