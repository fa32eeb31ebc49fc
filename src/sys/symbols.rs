//! Resolving the real symbols at load without a `dlsym` call each: the GNU hash tables of the
//! objects loaded after this library are read directly, in load order (what
//! `dlsym(RTLD_NEXT, …)` searches), at a few dozen instructions a symbol instead of a few
//! hundred. Anything unusual (no GNU hash table, an IFUNC, a symbol not found) is left to
//! `dlsym`, which stays the reference.

use libc::{c_char, c_int, c_void};

/// An entry of a dynamic section (`Elf64_Dyn`).
#[repr(C)]
struct Dyn {
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

extern "C" {
    fn dladdr1(addr: *const c_void, info: *mut libc::Dl_info, extra: *mut *mut c_void, flags: c_int) -> c_int;
}

const RTLD_DL_LINKMAP: c_int = 2;
const DT_NULL: i64 = 0;
const DT_STRTAB: i64 = 5;
const DT_SYMTAB: i64 = 6;
const DT_GNU_HASH: i64 = 0x6fff_fef5;
const DT_VERSYM: i64 = 0x6fff_fff0;
const STT_GNU_IFUNC: u8 = 10;

/// One object's dynamic symbol lookup tables.
#[derive(Clone, Copy)]
struct Object {
    base: usize,
    symtab: *const libc::Elf64_Sym,
    strtab: *const u8,
    gnu_hash: *const u32,
    versym: *const u16,
}

/// The objects after this one, in load order.
pub struct Next {
    objects: [Option<Object>; 32],
    count: usize,
}

fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| h.wrapping_mul(33).wrapping_add(c as u32))
}

impl Next {
    /// The objects loaded after the one holding `anchor` (an address inside this library).
    /// `None` if any of them cannot be read this way (then every symbol goes to `dlsym`).
    pub fn after(anchor: *const c_void) -> Option<Next> {
        let mut next = Next { objects: [None; 32], count: 0 };
        // SAFETY: dladdr1 fills `lm` with this object's link_map, which the loader keeps for
        // the life of the process; its l_next chain and dynamic sections are read-only to us.
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            let mut lm: *mut c_void = std::ptr::null_mut();
            if dladdr1(anchor, &mut info, &mut lm, RTLD_DL_LINKMAP) == 0 || lm.is_null() {
                return None;
            }
            let mut cur = (*(lm as *const LinkMap)).l_next;
            while !cur.is_null() {
                let m = &*cur;
                cur = m.l_next;
                if m.l_ld.is_null() {
                    continue;
                }
                let fix = |p: u64| -> usize {
                    // glibc relocates these entries in place; the vDSO's are left relative.
                    if (p as usize) < m.l_addr { p as usize + m.l_addr } else { p as usize }
                };
                let (mut symtab, mut strtab, mut gnu, mut versym) = (0, 0, 0, 0);
                let mut d = m.l_ld;
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
                    continue;
                }
                if gnu == 0 || next.count == next.objects.len() {
                    return None;
                }
                next.objects[next.count] = Some(Object {
                    base: m.l_addr,
                    symtab: symtab as *const libc::Elf64_Sym,
                    strtab: strtab as *const u8,
                    gnu_hash: gnu as *const u32,
                    versym: versym as *const u16,
                });
                next.count += 1;
            }
        }
        Some(next)
    }

    /// The address of `name`'s default-version definition in the first object that has one;
    /// `None` if none does or it is an IFUNC (whose resolver `dlsym` must run).
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        let h = gnu_hash(name);
        for obj in self.objects[..self.count].iter().flatten() {
            // SAFETY: the tables are the loader's, laid out as the ELF gABI's GNU hash section.
            unsafe {
                let gh = obj.gnu_hash;
                let (nbuckets, symoffset, bloom_size, shift) = (*gh, *gh.add(1), *gh.add(2), *gh.add(3));
                if nbuckets == 0 || bloom_size == 0 {
                    continue;
                }
                let bloom = gh.add(4) as *const u64;
                let word = *bloom.add(((h / 64) % bloom_size) as usize);
                let mask = (1u64 << (h % 64)) | (1u64 << ((h >> shift) % 64));
                if word & mask != mask {
                    continue;
                }
                let buckets = bloom.add(bloom_size as usize) as *const u32;
                let chain = buckets.add(nbuckets as usize);
                let mut idx = *buckets.add((h % nbuckets) as usize);
                if idx < symoffset {
                    continue;
                }
                loop {
                    let ch = *chain.add((idx - symoffset) as usize);
                    if (ch | 1) == (h | 1) {
                        let sym = &*obj.symtab.add(idx as usize);
                        let sname = std::ffi::CStr::from_ptr(obj.strtab.add(sym.st_name as usize).cast()).to_bytes();
                        let hidden = !obj.versym.is_null() && *obj.versym.add(idx as usize) & 0x8000 != 0;
                        if sname == name && sym.st_shndx != 0 && !hidden {
                            if sym.st_info & 0xf == STT_GNU_IFUNC {
                                return None;
                            }
                            return Some(obj.base + sym.st_value as usize);
                        }
                    }
                    if ch & 1 != 0 {
                        break;
                    }
                    idx += 1;
                }
            }
        }
        None
    }
}
