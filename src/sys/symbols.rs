//! Finding libc's definition of a hooked symbol without `dlsym`: the GNU hash tables of the
//! objects loaded after this library are read directly, in load order (what
//! `dlsym(RTLD_NEXT, …)` searches). No lock (the loader's list is read through `_r_debug`, as
//! debuggers do), no heap, a few dozen instructions: so a symbol can be resolved on its first
//! use, from any context, even inside a program's allocator.
#![allow(unsafe_code)]

use libc::{c_char, c_int};

/// An entry of a dynamic section (`Elf64_Dyn`).
#[repr(C)]
pub struct Dyn {
    d_tag: i64,
    d_un: u64,
}

/// The public head of glibc's `struct link_map`.
#[repr(C)]
struct LinkMap {
    l_addr: usize,
    l_name: *const c_char,
    l_ld: *const Dyn,
    l_next: *const LinkMap,
    l_prev: *const LinkMap,
}

/// `struct r_debug`, the loader's list for debuggers.
#[repr(C)]
struct RDebug {
    r_version: c_int,
    r_map: *const LinkMap,
}

extern "C" {
    static _r_debug: RDebug;
    /// This object's own dynamic section (defined by the linker for every shared object).
    static _DYNAMIC: [Dyn; 0];
}

const DT_NULL: i64 = 0;
const DT_STRTAB: i64 = 5;
const DT_SYMTAB: i64 = 6;
const DT_GNU_HASH: i64 = 0x6fff_fef5;
const DT_VERSYM: i64 = 0x6fff_fff0;
const STT_GNU_IFUNC: u8 = 10;

fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| h.wrapping_mul(33).wrapping_add(c as u32))
}

/// This library's entry in the loader's list.
fn own_map() -> *const LinkMap {
    // SAFETY: _r_debug is the loader's, valid for the life of the process; the list is only
    // appended to by dlopen, and an entry is never freed while this library is loaded.
    unsafe {
        let own_ld = std::ptr::addr_of!(_DYNAMIC).cast::<Dyn>();
        let mut m = _r_debug.r_map;
        while !m.is_null() {
            if (*m).l_ld == own_ld {
                return m;
            }
            m = (*m).l_next;
        }
        std::ptr::null()
    }
}

/// This library's path as the loader has it (the launcher preloads it by an absolute path).
pub fn own_path() -> Option<&'static [u8]> {
    let m = own_map();
    // SAFETY: a live link_map entry's name is a NUL-terminated string the loader keeps.
    unsafe { (!m.is_null() && !(*m).l_name.is_null()).then(|| std::ffi::CStr::from_ptr((*m).l_name).to_bytes()) }
}

/// The path of this process's dynamic loader, as the loader's list names it (the entry loaded
/// at `AT_BASE`).
pub fn loader_path() -> Option<&'static [u8]> {
    // SAFETY: getauxval has no preconditions; the list is read as in `own_map`.
    unsafe {
        let base = libc::getauxval(libc::AT_BASE) as usize;
        let mut m = _r_debug.r_map;
        while !m.is_null() {
            if (*m).l_addr == base && !(*m).l_name.is_null() {
                let name = std::ffi::CStr::from_ptr((*m).l_name).to_bytes();
                return (!name.is_empty()).then_some(name);
            }
            m = (*m).l_next;
        }
        None
    }
}

/// How a symbol was found.
pub enum Found {
    At(usize),
    /// Not defined by any object after this one.
    Missing,
    /// The loader's structures could not be read this way (no GNU hash table, this library
    /// not in the list).
    Unknown,
}

/// The address of `name`'s definition in the first object after this one that has it: its
/// default version, else (a compat-only symbol such as `__xstat`) any version.
pub fn lookup_next(name: &[u8]) -> Found {
    let own = own_map();
    if own.is_null() {
        return Found::Unknown;
    }
    let h = gnu_hash(name);
    // A default version in any object first (a compat-only version elsewhere, like libattr's
    // old `fsetxattr@ATTR_1.0` wrapper, must not win over libc's), then any version.
    for any_version in [false, true] {
        // SAFETY: as in own_map; every table is the loader's, laid out as the ELF gABI says.
        unsafe {
            let mut m = (*own).l_next;
            while !m.is_null() {
                let lm = &*m;
                m = lm.l_next;
                if lm.l_ld.is_null() {
                    continue;
                }
                match lookup_in(lm, name, h, any_version) {
                    Some(Some(addr)) => return Found::At(addr),
                    Some(None) => {}
                    None => return Found::Unknown,
                }
            }
        }
    }
    Found::Missing
}

/// `Some(Some(addr))` found, `Some(None)` not in this object, `None` unreadable.
///
/// # Safety
/// `lm` is a live link_map entry.
unsafe fn lookup_in(lm: &LinkMap, name: &[u8], h: u32, any_version: bool) -> Option<Option<usize>> {
    // glibc relocates these entries in place; the vDSO's are left relative.
    let fix = |p: u64| -> usize {
        if (p as usize) < lm.l_addr {
            p as usize + lm.l_addr
        } else {
            p as usize
        }
    };
    let (mut symtab, mut strtab, mut gnu, mut versym) = (0usize, 0usize, 0usize, 0usize);
    // SAFETY: per the contract; the dynamic section ends with DT_NULL.
    unsafe {
        let mut d = lm.l_ld;
        while (*d).d_tag != DT_NULL {
            match (*d).d_tag {
                DT_SYMTAB => symtab = fix((*d).d_un),
                DT_STRTAB => strtab = fix((*d).d_un),
                DT_GNU_HASH => gnu = fix((*d).d_un),
                DT_VERSYM => versym = fix((*d).d_un),
                _ => {}
            }
            d = d.add(1);
        }
        if symtab == 0 || strtab == 0 {
            return Some(None);
        }
        if gnu == 0 {
            return None;
        }
        let gh = gnu as *const u32;
        let (nbuckets, symoffset, bloom_size, shift) = (*gh, *gh.add(1), *gh.add(2), *gh.add(3));
        if nbuckets == 0 || bloom_size == 0 {
            return Some(None);
        }
        let bloom = gh.add(4) as *const u64;
        let word = *bloom.add(((h / 64) % bloom_size) as usize);
        let mask = (1u64 << (h % 64)) | (1u64 << ((h >> shift) % 64));
        if word & mask != mask {
            return Some(None);
        }
        let buckets = bloom.add(bloom_size as usize) as *const u32;
        let chain = buckets.add(nbuckets as usize);
        let mut idx = *buckets.add((h % nbuckets) as usize);
        if idx < symoffset {
            return Some(None);
        }
        let symtab = symtab as *const libc::Elf64_Sym;
        let versym = versym as *const u16;
        let mut hidden_match: Option<&libc::Elf64_Sym> = None;
        loop {
            let ch = *chain.add((idx - symoffset) as usize);
            if (ch | 1) == (h | 1) {
                let sym = &*symtab.add(idx as usize);
                let sname = std::ffi::CStr::from_ptr((strtab as *const c_char).add(sym.st_name as usize)).to_bytes();
                if sname == name && sym.st_shndx != 0 {
                    let hidden = !versym.is_null() && *versym.add(idx as usize) & 0x8000 != 0;
                    if !hidden {
                        return Some(Some(address_of(lm, sym)));
                    }
                    hidden_match.get_or_insert(sym);
                }
            }
            if ch & 1 != 0 {
                break;
            }
            idx += 1;
        }
        Some(hidden_match.filter(|_| any_version).map(|sym| address_of(lm, sym)))
    }
}

/// A symbol's address; an IFUNC's resolver is run, as the loader would run it.
///
/// # Safety
/// `sym` is a defined symbol of `lm`.
unsafe fn address_of(lm: &LinkMap, sym: &libc::Elf64_Sym) -> usize {
    let addr = lm.l_addr + sym.st_value as usize;
    if sym.st_info & 0xf == STT_GNU_IFUNC {
        // SAFETY: an x86-64 IFUNC resolver takes no arguments and returns the implementation.
        let resolver: unsafe extern "C" fn() -> usize = unsafe { std::mem::transmute(addr) };
        return unsafe { resolver() };
    }
    addr
}
