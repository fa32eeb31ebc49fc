//! `kmview-chroot`: `chroot DIR [COMMAND [ARG]...]` as `kmview chroot` runs it, under the name
//! fakechroot-style flows call (`fakechroot chroot DIR CMD` becomes `kmview-chroot DIR CMD`).

#[path = "chroot_args.rs"]
mod chroot_args;
#[path = "front.rs"]
mod front;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match chroot_args::translate(&args) {
        Ok(km) => front::exec_kmview("kmview-chroot", &km, &[]),
        Err(e) => front::fail("kmview-chroot", &e),
    }
}
