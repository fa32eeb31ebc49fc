//! The generated part of the hook table (from `table.in`, by `build.rs`): `Sym`, the slots and
//! `real::NAME` for each symbol, the exported shells, and the dispatch of `syscall()`.
#![allow(unsafe_code)]

include!(concat!(env!("OUT_DIR"), "/hook_table.rs"));
