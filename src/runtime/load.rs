//! Loading the stack: `KMVIEW_STACK` read twice with the one heap-free parser of `api/` (once
//! to size an arena, once to fill it), each view's table sorted, the index built. A value that
//! does not parse stops the program with one line on stderr and status 125.

use super::{mode, Index, Runtime, FIRSTS, MODE, RUNTIME, STATE};
use crate::sys::arena::Arena;
use crate::views::marks::MarkKind;
use crate::views::{unreal, Bind, Entry, Layer, Mark, Overlay, View};
use kmview_api::format::{scan, Item, Kind};
use kmview_api::{CompleteMode, StaticPolicy};
use std::sync::atomic::{AtomicI32, Ordering};

/// The thread that is loading (to tell a re-entry from a signal handler from another thread).
static LOADER: AtomicI32 = AtomicI32::new(0);

/// Loads the stack unless it is loaded; waits for another thread that is loading it.
pub fn ensure() {
    match STATE.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            LOADER.store(crate::sys::raw::gettid(), Ordering::Relaxed);
            load();
            STATE.store(2, Ordering::Release);
        }
        Err(2) => {}
        Err(_) => {
            if LOADER.load(Ordering::Relaxed) == crate::sys::raw::gettid() {
                // A signal handler called a hook while this very thread was loading: the view is
                // not ready, and passing the call through would leave it. The guard turns this
                // into EIO.
                panic!("the stack is still loading");
            }
            while STATE.load(Ordering::Acquire) != 2 {
                std::hint::spin_loop();
            }
        }
    }
}

/// What the first pass counts.
#[derive(Default)]
struct Sizes {
    views: usize,
    entries: usize,
    bytes: usize,
}

/// What a stack value needs in the arena, checking all of it.
fn sizes_of(value: &[u8]) -> Result<Sizes, kmview_api::ParseError> {
    let mut sizes = Sizes::default();
    scan(value, |item| match item {
        Item::View => sizes.views += 1,
        Item::Entry(kind, args) => {
            // unreal: two binds, and the prefix twice over.
            sizes.entries += if kind == Kind::Unreal { 2 } else { 1 };
            for i in 0..args.len() {
                sizes.bytes += args.get(i).map_or(0, |a| a.decoded_len()) * if kind == Kind::Unreal { 3 } else { 1 };
            }
        }
    })?;
    Ok(sizes)
}

/// The runtime of a stack whose views are `value` and whose other state is `old`'s: what a
/// `chroot` publishes (`value` is `old`'s with a view more). `None` if memory or the value
/// fails.
pub(super) fn replaced(old: &Runtime, value: &'static [u8]) -> Option<&'static Runtime> {
    let sizes = sizes_of(value).ok()?;
    let need = sizes.views * std::mem::size_of::<View>()
        + sizes.entries * std::mem::size_of::<Entry>()
        + sizes.bytes
        + 2 * value.len()
        + 3 * old.lib_path.len()
        + std::mem::size_of::<Runtime>()
        + 1024;
    let mut arena = Arena::map(need)?;
    let mut rt = fill(&mut arena, value, &sizes, old.lib_path)?;
    // The facets' files are the ones the old runtime mapped; the process's start is behind it.
    rt.fake = old.fake;
    rt.fakes = old.fakes;
    rt.traces = old.traces;
    rt.start_cwd = old.start_cwd;
    rt.start_exe = old.start_exe;
    let rt = arena.one(rt)?;
    // A `vfork` child shares its parent's memory: what it publishes, the parent must not keep
    // (its own chroot is the child's alone). Saved once, given back when the parent resumes.
    if !crate::sys::owns_memory() && super::VFORK_SAVED.get().is_none() {
        super::VFORK_SAVED.publish(old_self(old));
        super::VFORK_MODE.store(MODE.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    // A root: every path the slow way.
    MODE.store(mode::SLOW, Ordering::Relaxed);
    RUNTIME.publish(rt);
    Some(rt)
}

/// The published runtime `old` is (a `&Runtime` the caller got from `runtime::get`).
fn old_self(old: &Runtime) -> &'static Runtime {
    RUNTIME.get().filter(|r| std::ptr::eq(*r, old)).unwrap_or_else(|| RUNTIME.get().expect("a runtime is published"))
}

/// Reads the stack (the constructor calls this; a hook that runs first does, through `ensure`).
pub fn load() {
    let Some(value) = crate::sys::getenv(b"KMVIEW_STACK\0") else {
        crate::views::fakeroot::none();
        MODE.store(mode::PASS, Ordering::Relaxed);
        return;
    };
    let sizes = match sizes_of(value) {
        Ok(s) => s,
        Err(e) => refuse(value, e),
    };
    let lib = crate::sys::symbols::own_path().unwrap_or(b"libkmview.so");
    let start_cwd = crate::sys::getenv(b"KMVIEW_CWD\0");
    let start_exe = crate::sys::getenv(b"KMVIEW_EXE\0");
    let need = sizes.views * std::mem::size_of::<View>()
        + sizes.entries * std::mem::size_of::<Entry>()
        + sizes.bytes
        + 2 * value.len()
        + 3 * lib.len()
        + 2 * start_cwd.map_or(0, |c| c.len())
        + start_exe.map_or(0, |c| c.len())
        + 256
        + crate::sys::tracebuf::MAX_TRACES * crate::sys::CAP
        + 64 * 8
        + 64
        + std::mem::size_of::<Runtime>()
        + 64;
    let Some(mut arena) = Arena::map(need) else { out_of_memory() };
    let Some(mut rt) = fill(&mut arena, value, &sizes, lib) else { out_of_memory() };
    rt.start_cwd = start_cwd.and_then(|c| arena.bytes(c));
    // A `PWD` that is not the working directory the parent named in the view (a host path the
    // launcher or an embedding tool passed on): the view's name, for the constructor to put in
    // the environment (a shell believes `PWD` when it names the same directory).
    if let (Some(cwd), Some(pwd)) = (rt.start_cwd.and_then(kmview_api::env::cwd), crate::sys::getenv(b"PWD\0")) {
        if pwd != cwd {
            rt.pwd_env = cstr_in(&mut arena, &[b"PWD=", cwd]);
        }
    }
    rt.start_exe = start_exe.and_then(|c| arena.bytes(c));
    if rt.fake.is_some() {
        // No fake identity without its record: stop rather than show a root nobody recorded.
        for (l, fake) in rt.fakes.iter().enumerate() {
            let Some(fake) = fake else { break };
            if let Err(why) = map_record(rt.views, l, fake) {
                crate::sys::write_stderr(&[b"kmview: ", why.as_bytes(), b" (", fake.state.to_bytes(), b"): refusing to run outside the view\n"]);
                crate::sys::exit_now(125);
            }
        }
        crate::views::fakeroot::start(&rt.fakes, crate::sys::getenv(b"KMVIEW_IDS\0"));
    } else {
        crate::views::fakeroot::none();
    }
    if rt.is_traced() {
        if let Err(why) = map_traces(&mut arena, &mut rt) {
            crate::sys::write_stderr(&[b"kmview: ", why.as_bytes(), b": refusing to run outside the view\n"]);
            crate::sys::exit_now(125);
        }
    }
    // A trace sees every call: none may take the hot way past it.
    let slow = rt.exact || rt.has_root || rt.is_traced() || rt.index.is_empty() && rt.has_entries();
    let m = if !rt.has_entries() {
        mode::PASS
    } else if slow {
        mode::SLOW
    } else {
        mode::TEST
    };
    // The hot test reads the table only once the mode below says so.
    rt.index.fill_table(
        |c1, word| FIRSTS[c1 as usize].store(word, Ordering::Relaxed),
        |c1, bits| {
            FIRSTS[c1 as usize].fetch_or(bits, Ordering::Relaxed);
        },
    );
    match arena.one(rt) {
        Some(rt) => RUNTIME.publish(rt),
        None => out_of_memory(),
    }
    if super::FORCED_SLOW.load(Ordering::Relaxed) {
        MODE.store(mode::SLOW, Ordering::Relaxed);
    } else {
        MODE.store(m, Ordering::Relaxed);
    }
}

fn fill(arena: &mut Arena, value: &'static [u8], sizes: &Sizes, lib: &[u8]) -> Option<Runtime> {
    let views = arena.slice(sizes.views, View { entries: &[], chroot: false })?;
    let entries = arena.slice(sizes.entries, Entry::Mark(Mark { at: b"/", kind: MarkKind::Hide }))?;
    // Entries are placed in order; each view's run is recorded, then sorted.
    let mut runs = [(0usize, 0usize); 64];
    let mut chroots = [false; 64];
    let (mut nv, mut ne) = (0usize, 0usize);
    let mut policy = StaticPolicy::Warn;
    let mut policy_given = false;
    let mut complete: Option<CompleteMode> = None;
    let mut exact = false;
    let mut fake = None;
    let mut fakes = [None; crate::sys::shared::MAX_LAYERS];
    let mut nfakes = 0;
    let mut traces = [None; crate::sys::tracebuf::MAX_TRACES];
    let mut ntraces = 0;
    let mut failed = false;
    // Overlays in load order: each has its own change count (`sys::ovgen`).
    let mut overlays = 0usize;
    let mut store = |e: Entry, ne: &mut usize| {
        if *ne < entries.len() {
            entries[*ne] = e;
            *ne += 1;
        }
    };
    scan(value, |item| {
        if failed {
            return;
        }
        match item {
            Item::View => {
                if nv > 0 && nv <= runs.len() {
                    runs[nv - 1].1 = ne;
                }
                if nv < runs.len() {
                    runs[nv] = (ne, ne);
                }
                nv += 1;
            }
            Item::Entry(kind, args) => {
                let mut path = |i: usize| -> Option<&'static [u8]> {
                    let a = args.get(i)?;
                    arena.bytes_with(a.decoded_len(), |out| {
                        a.decode_into(out);
                    })
                };
                let e = match kind {
                    Kind::Unreal => {
                        let Some(prefix) = path(0) else {
                            failed = true;
                            return;
                        };
                        let Some(twice) = arena.bytes_with(2 * prefix.len(), |out| {
                            out[..prefix.len()].copy_from_slice(prefix);
                            out[prefix.len()..].copy_from_slice(prefix);
                        }) else {
                            failed = true;
                            return;
                        };
                        let [a, b] = unreal::binds(prefix, twice);
                        store(Entry::Bind(a), &mut ne);
                        Entry::Bind(b)
                    }
                    Kind::Bind | Kind::RoBind => match (path(0), path(1)) {
                        (Some(at), Some(source)) => Entry::Bind(Bind { at, source, read_only: kind == Kind::RoBind, walk: args.walk(2) }),
                        _ => {
                            failed = true;
                            return;
                        }
                    },
                    Kind::Tmp => match (path(0), path(1)) {
                        (Some(at), Some(source)) => Entry::Bind(Bind { at, source, read_only: false, walk: kmview_api::Walk::No }),
                        _ => {
                            failed = true;
                            return;
                        }
                    },
                    Kind::Overlay => match (path(0), path(1), path(2), path(3)) {
                        (Some(at), Some(lower), Some(upper), Some(work)) => {
                            overlays += 1;
                            Entry::Overlay(Overlay {
                                at,
                                lower,
                                upper,
                                work,
                                lower_links: args.walk(4) != kmview_api::Walk::No,
                                slot: overlays - 1,
                                view: nv.saturating_sub(1),
                            })
                        }
                        _ => {
                            failed = true;
                            return;
                        }
                    },
                    Kind::Chroot => match path(0) {
                        Some(source) => {
                            if let Some(c) = chroots.get_mut(nv.saturating_sub(1)) {
                                *c = true;
                            }
                            Entry::Bind(Bind { at: b"/", source, read_only: false, walk: kmview_api::Walk::All })
                        }
                        None => {
                            failed = true;
                            return;
                        }
                    },
                    Kind::Root => match path(0) {
                        Some(source) => Entry::Bind(Bind {
                            at: b"/",
                            source,
                            read_only: false,
                            walk: if source != b"/" { kmview_api::Walk::All } else { args.walk(1) },
                        }),
                        None => {
                            failed = true;
                            return;
                        }
                    },
                    Kind::Hide | Kind::Deny | Kind::Ro | Kind::Link => match path(0) {
                        Some(at) => Entry::Mark(Mark {
                            at,
                            kind: match kind {
                                Kind::Hide => MarkKind::Hide,
                                Kind::Deny => MarkKind::Deny,
                                Kind::Link => MarkKind::Link,
                                _ => MarkKind::ReadOnly,
                            },
                        }),
                        None => {
                            failed = true;
                            return;
                        }
                    },
                    Kind::Static => {
                        let mut word = [0u8; 8];
                        let n = args.get(0).map_or(0, |a| if a.decoded_len() <= 8 { a.decode_into(&mut word) } else { 0 });
                        policy = StaticPolicy::from_name(&word[..n]).unwrap_or(StaticPolicy::Warn);
                        policy_given = true;
                        return;
                    }
                    Kind::Complete => {
                        // Any view's `on` wins over `auto`: a raw call must meet every view's
                        // mounts, the outer ones' too (the onion).
                        let on = args.get(0).is_some_and(|a| a.eq_bytes(b"on"));
                        complete = Some(if on || complete == Some(CompleteMode::On) { CompleteMode::On } else { CompleteMode::Auto });
                        return;
                    }
                    Kind::Exact => {
                        exact = true;
                        return;
                    }
                    Kind::FakeRoot => {
                        // A later (inner) view's fake root stands in front of an outer one's: its
                        // identity is the process's; every one adjusts results, outermost first.
                        match path(2).and_then(|p| cstr_in(arena, &[p])) {
                            Some(state) if nfakes < fakes.len() => {
                                let view = nv.saturating_sub(1);
                                fake = Some(crate::runtime::Fake { uid: args.id(0), gid: args.id(1), state, unknown_is_real: args.len() == 4, view });
                                fakes[nfakes] = fake;
                                nfakes += 1;
                            }
                            _ => failed = true,
                        }
                        return;
                    }
                    Kind::Trace => {
                        let format = if args.get(0).is_some_and(|a| a.eq_bytes(b"fsatrace")) {
                            kmview_api::TraceFormat::Fsatrace
                        } else {
                            kmview_api::TraceFormat::Json
                        };
                        match path(1).and_then(|p| cstr_in(arena, &[p])) {
                            Some(file) if ntraces < traces.len() => {
                                traces[ntraces] = Some(crate::runtime::Trace { view: nv.saturating_sub(1), format, file });
                                ntraces += 1;
                            }
                            _ => failed = true,
                        }
                        return;
                    }
                };
                store(e, &mut ne);
            }
        }
    })
    .ok()?;
    if failed || nv > runs.len() {
        return None;
    }
    if nv > 0 {
        runs[nv - 1].1 = ne;
    }
    // The views' runs are consecutive: cut the arena's entries into them in order.
    let mut remaining: &'static mut [Entry] = entries;
    for (i, view) in views.iter_mut().enumerate() {
        let (start, end) = runs[i];
        let (table, rest) = std::mem::take(&mut remaining).split_at_mut(end - start);
        remaining = rest;
        sort_longest_first(table);
        *view = View { entries: reborrow(table), chroot: chroots[i] };
    }
    let mut index = Index::empty();
    let mut has_mounts = false;
    let mut has_root = false;
    let mut has_read_only = false;
    let mut has_overlay = false;
    for v in views.iter() {
        for e in v.entries {
            index.add_path(e.at());
            has_mounts |= e.is_mount();
            has_root |= e.at() == b"/";
            has_read_only |= e.read_only();
            has_overlay |= matches!(e, Entry::Overlay(_));
        }
    }
    super::OVERLAID.store(has_overlay, std::sync::atomic::Ordering::Relaxed);
    let any = views.iter().any(|v| !v.entries.is_empty());
    if any {
        // The names the kernel gives descriptors and working directories lead into the view.
        index.add(b"proc");
        index.add(b"dev");
    }
    let stack_env = cstr_in(arena, &[b"KMVIEW_STACK=", value])?;
    let preload_env = cstr_in(arena, &[b"LD_PRELOAD=", lib])?;
    let lib_path = arena.bytes(lib)?;
    let views: &'static [View] = views;
    let proc_is_host =
        views.iter().all(|v| v.mount_of(b"/proc").is_none_or(|m| m.source() == Some(b"/proc") || (m.source() == Some(b"/") && m.at() == b"/")));
    Some(Runtime {
        views,
        index,
        stack_env,
        preload_env,
        lib_path,
        // Complete mode follows every program or refuses it: a static one, which it cannot
        // follow, is denied unless a view said otherwise.
        static_policy: if complete.is_some() && !policy_given { StaticPolicy::Deny } else { policy },
        complete,
        exact,
        has_table: any,
        has_mounts,
        has_root,
        has_read_only,
        has_overlay,
        proc_is_host,
        start_cwd: None,
        start_exe: None,
        pwd_env: None,
        fake,
        fakes,
        traces,
    })
}

/// Names each trace's file as the kernel does: its path is in the terms of the view the
/// launcher ran in (the views outside the trace's own), mapped outward by each of those.
fn map_traces(arena: &mut Arena, rt: &mut Runtime) -> Result<(), &'static str> {
    for t in rt.traces.iter_mut().flatten() {
        let mut path = crate::sys::pool::copy_of(t.file.to_bytes()).map_err(|_| "no buffer for the trace's file")?;
        crate::resolver::to_host_in(&rt.views[..t.view.min(rt.views.len())], t.file.to_bytes(), crate::views::Op::Open(libc::O_WRONLY), &mut path)
            .map_err(|_| "the trace's file is out of reach")?;
        t.file = cstr_in(arena, &[path.as_bytes()]).ok_or("no room for the trace's file name")?;
    }
    Ok(())
}

/// Maps fake root `l`'s record: its path is in the terms of the view the launcher ran in (the
/// views outside the fake root's), so each of those maps it outward before the kernel opens it.
fn map_record(views: &[View], l: usize, fake: &crate::runtime::Fake) -> Result<(), &'static str> {
    let mut path = crate::sys::pool::copy_of(fake.state.to_bytes()).map_err(|_| "no buffer for the fake root's record")?;
    for view in views[..fake.view.min(views.len())].iter().rev() {
        let d = view.decide(path.as_bytes(), crate::views::Op::Open(libc::O_RDWR)).map_err(|_| "the fake root's record is out of reach")?;
        if let Some(m) = d.mount {
            m.map_out(&mut path).map_err(|_| "the fake root's record is out of reach")?;
        }
    }
    crate::sys::shared::map(l, &path)
}

/// A `&'static mut` slice of the arena as a shared one.
fn reborrow(s: &'static mut [Entry]) -> &'static [Entry] {
    s
}

/// Longest path first; among equals the later entry first (a later mount covers an earlier one).
fn sort_longest_first(t: &mut [Entry]) {
    // Insertion sort: tables are short, and this allocates nothing.
    for i in 1..t.len() {
        let mut j = i;
        while j > 0 && t[j].at().len() >= t[j - 1].at().len() {
            t.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn cstr_in(arena: &mut Arena, parts: &[&[u8]]) -> Option<&'static std::ffi::CStr> {
    let n: usize = parts.iter().map(|p| p.len()).sum();
    if parts.iter().any(|p| p.contains(&0)) {
        return None;
    }
    let bytes = arena.bytes_with(n + 1, |out| {
        let mut at = 0;
        for p in parts {
            out[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
    })?;
    std::ffi::CStr::from_bytes_with_nul(bytes).ok()
}

/// Stops the program: its view could not be read. One line, the value escaped.
fn refuse(value: &[u8], e: kmview_api::ParseError) -> ! {
    let mut buf = [0u8; 768];
    let mut out = kmview_api::sink::Fixed::new(&mut buf);
    let mut digits = [0u8; 12];
    let shown = &value[..value.len().min(300)];
    let _ = kmview_api::sink::Sink::put(&mut out, b"kmview: malformed KMVIEW_STACK (")
        && kmview_api::sink::Sink::put(&mut out, e.what.as_bytes())
        && kmview_api::sink::Sink::put(&mut out, b" at byte ")
        && kmview_api::sink::Sink::put(&mut out, kmview_api::env::decimal(e.at as u64, &mut digits))
        && kmview_api::sink::Sink::put(&mut out, b"): \"")
        && kmview_api::env::escape_for_message(&mut out, shown)
        && kmview_api::sink::Sink::put(&mut out, if shown.len() < value.len() { b"...\"" } else { b"\"" });
    crate::sys::write_stderr(&[out.written(), b": refusing to run outside the view\n"]);
    crate::sys::exit_now(125);
}

fn out_of_memory() -> ! {
    crate::sys::write_stderr(&[b"kmview: cannot map memory for the stack: refusing to run outside the view\n"]);
    crate::sys::exit_now(125);
}
