//! `package-tarball [STAGING OUT.tar]`: a packaging wrapper, as `fakeroot` is used for one. In
//! a view with a fake root, the files of a staging directory are given to root (`chown -R
//! root:root`), their modes normalized (`chmod -R u=rwX,go=rX`) and archived (`tar -cf`);
//! then, outside the view, `tar -tvf` lists the archive on stdout: every entry root/root. On
//! disk the files stay the user's: the owners live in the fake root's record, which `tar` read
//! through `stat`. No root, no daemon. Without arguments it packs a staging directory of its own.

use kmview_api::ViewBuilder;
use kmview_examples::{exit_code, main_with, TempDir};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The script run as (fake) root; `$1` the staging directory, `$2` the archive.
const PACK: &str = r#"set -e; cd "$1"; chown -R root:root .; chmod -R u=rwX,go=rX .; tar -cf "$2" ."#;

/// A small package: a program and its configuration.
fn make_staging(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("usr/bin"))?;
    std::fs::create_dir_all(dir.join("etc"))?;
    std::fs::write(dir.join("usr/bin/hello"), "#!/bin/sh\necho hello\n")?;
    std::fs::set_permissions(dir.join("usr/bin/hello"), std::fs::Permissions::from_mode(0o700))?;
    std::fs::write(dir.join("etc/hello.conf"), "greeting=hello\n")
}

fn main() -> ExitCode {
    main_with("package-tarball", || {
        let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
        let scratch = TempDir::new("package")?;
        let (staging, out) = match &args[..] {
            [staging, out] => (staging.canonicalize()?, std::path::absolute(out)?),
            [] => {
                let staging = scratch.path().join("staging");
                make_staging(&staging)?;
                (staging, scratch.path().join("hello.tar"))
            }
            _ => return Err("usage: package-tarball [STAGING OUT.tar]".into()),
        };
        // The record of owners and modes: a file of ours, gone with the scratch directory.
        let view = ViewBuilder::new().fakeroot(0, 0, scratch.path().join("fakeroot.state"));
        let status = view.command("sh")?.args(["-c", PACK, "pack"]).arg(&staging).arg(&out).status()?;
        if !status.success() {
            eprintln!("package-tarball: packing {} failed", staging.display());
            return Ok(exit_code(status));
        }
        // Outside the view: what the archive itself says.
        Ok(exit_code(Command::new("tar").arg("-tvf").arg(&out).status()?))
    })
}
