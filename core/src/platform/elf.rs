//! Finds a defined symbol in a loaded object by reading its dynamic symbol
//! table in memory, through the GNU hash table (or the older SysV one): a
//! lookup that asks nothing of the loader.

/// `Elf64_Dyn`.
#[repr(C)]
struct Dyn {
    tag: i64,
    value: u64,
}

/// `Elf64_Sym`.
#[repr(C)]
struct Sym {
    name: u32,
    info: u8,
    other: u8,
    section: u16,
    value: u64,
    size: u64,
}

const DT_NULL: i64 = 0;
const DT_HASH: i64 = 4;
const DT_STRTAB: i64 = 5;
const DT_SYMTAB: i64 = 6;
const DT_GNU_HASH: i64 = 0x6fff_fef5;
const PT_DYNAMIC: u32 = 2;
const SHN_UNDEF: u16 = 0;

/// The tables a lookup needs, at their addresses in memory.
struct Tables {
    symbols: *const Sym,
    strings: *const u8,
    gnu_hash: Option<*const u32>,
    sysv_hash: Option<*const u32>,
}

/// The address of `name` if the object of `info` defines it.
///
/// # Safety
///
/// `info` describes an object that stays mapped during the call (inside a
/// `dl_iterate_phdr` callback).
pub(super) unsafe fn find_symbol(info: &libc::dl_phdr_info, name: &[u8]) -> Option<usize> {
    // SAFETY: by the contract.
    let tables = unsafe { tables(info)? };
    // SAFETY: the tables belong to the mapped object.
    let symbol = unsafe {
        match (tables.gnu_hash, tables.sysv_hash) {
            (Some(hash), _) => gnu_lookup(&tables, hash, name),
            (None, Some(hash)) => sysv_lookup(&tables, hash, name),
            (None, None) => None,
        }
    }?;
    (symbol.section != SHN_UNDEF && symbol.value != 0).then(|| info.dlpi_addr as usize + symbol.value as usize)
}

/// Reads the object's dynamic section.
unsafe fn tables(info: &libc::dl_phdr_info) -> Option<Tables> {
    if info.dlpi_phdr.is_null() {
        return None;
    }
    // SAFETY: the loader's program headers of a mapped object.
    let headers = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) };
    let dynamic = headers.iter().find(|h| h.p_type == PT_DYNAMIC)?;
    let base = info.dlpi_addr as usize;
    // The loader relocates these entries in place for most objects, but not
    // for all (the vDSO's are read-only): an address below the object's
    // base is still an offset.
    let address = |value: u64| if (value as usize) < base { base + value as usize } else { value as usize };
    let mut entry = (base + dynamic.p_vaddr as usize) as *const Dyn;
    let (mut symbols, mut strings, mut gnu_hash, mut sysv_hash) = (0, 0, None, None);
    loop {
        // SAFETY: the dynamic section ends with DT_NULL.
        let Dyn { tag, value } = unsafe { entry.read() };
        match tag {
            DT_NULL => break,
            DT_SYMTAB => symbols = address(value),
            DT_STRTAB => strings = address(value),
            DT_GNU_HASH => gnu_hash = Some(address(value) as *const u32),
            DT_HASH => sysv_hash = Some(address(value) as *const u32),
            _ => {}
        }
        // SAFETY: still inside the section (DT_NULL not reached).
        entry = unsafe { entry.add(1) };
    }
    (symbols != 0 && strings != 0).then_some(Tables {
        symbols: symbols as *const Sym,
        strings: strings as *const u8,
        gnu_hash,
        sysv_hash,
    })
}

/// Whether symbol `symbol`'s name is `name`.
unsafe fn named(tables: &Tables, symbol: &Sym, name: &[u8]) -> bool {
    // SAFETY: names are NUL-terminated strings of the string table.
    let stored = unsafe { std::ffi::CStr::from_ptr(tables.strings.add(symbol.name as usize).cast()) };
    stored.to_bytes() == name
}

fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| h.wrapping_mul(33).wrapping_add(c as u32))
}

/// The GNU hash table: buckets of symbol indexes, chains of hashes whose
/// lowest bit ends a chain.
unsafe fn gnu_lookup<'a>(tables: &'a Tables, table: *const u32, name: &[u8]) -> Option<&'a Sym> {
    // SAFETY: the header is four words, then the bloom filter (64-bit
    // words), the buckets and the chains.
    unsafe {
        let buckets_count = table.read();
        let symbol_offset = table.add(1).read();
        let bloom_words = table.add(2).read() as usize;
        if buckets_count == 0 {
            return None;
        }
        let buckets = table.add(4 + bloom_words * 2);
        let chains = buckets.add(buckets_count as usize);
        let hash = gnu_hash(name);
        let mut index = buckets.add((hash % buckets_count) as usize).read();
        if index < symbol_offset {
            return None;
        }
        loop {
            let chained = chains.add((index - symbol_offset) as usize).read();
            let symbol = &*tables.symbols.add(index as usize);
            if (chained | 1) == (hash | 1) && named(tables, symbol, name) {
                return Some(symbol);
            }
            if chained & 1 == 1 {
                return None;
            }
            index += 1;
        }
    }
}

fn sysv_hash(name: &[u8]) -> u32 {
    name.iter().fold(0u32, |h, &c| {
        let h = (h << 4).wrapping_add(c as u32);
        let high = h & 0xf000_0000;
        (h ^ (high >> 24)) & !high
    })
}

/// The SysV hash table: bucket count, chain count, buckets, chains.
unsafe fn sysv_lookup<'a>(tables: &'a Tables, table: *const u32, name: &[u8]) -> Option<&'a Sym> {
    // SAFETY: the layout of DT_HASH.
    unsafe {
        let buckets_count = table.read();
        let chains_count = table.add(1).read();
        if buckets_count == 0 {
            return None;
        }
        let buckets = table.add(2);
        let chains = buckets.add(buckets_count as usize);
        let mut index = buckets.add((sysv_hash(name) % buckets_count) as usize).read();
        while index != 0 && index < chains_count {
            let symbol = &*tables.symbols.add(index as usize);
            if named(tables, symbol, name) {
                return Some(symbol);
            }
            index = chains.add(index as usize).read();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_functions_match_the_elf_specifications() {
        // Values from the GNU and SysV ABIs' reference implementations.
        assert_eq!(gnu_hash(b""), 5381);
        assert_eq!(gnu_hash(b"printf"), 0x156b_2bb8);
        assert_eq!(sysv_hash(b"printf"), 0x0779_05a6);
    }

    /// A loaded object made up in memory: program headers, a dynamic
    /// section, a symbol table of three entries (the null symbol, a defined
    /// `credchain_copy_identity`, an undefined `credchain_undefined`), the
    /// hash tables `hashes` asks for and the string table. `relocated`: the
    /// dynamic entries hold addresses, as the loader leaves most objects;
    /// otherwise offsets from the base, as in the vDSO. Built with safe code
    /// only, so that the one unsafe call is the lookup (`scripts/miri` runs
    /// it under Miri, which checks every read it makes stays inside the image).
    struct Image {
        words: Vec<u64>,
        headers: Vec<libc::Elf64_Phdr>,
    }

    const IDENTITY_VALUE: u64 = 0x2a0;
    const SYMBOLS: usize = 192;
    const GNU_HASH: usize = 264;
    const SYSV_HASH: usize = 304;
    const STRINGS: usize = 328;
    const SIZE: usize = 384;

    impl Image {
        fn new(relocated: bool, gnu: bool, sysv: bool) -> Image {
            let mut words = vec![0u64; SIZE / 8];
            let base = words.as_ptr() as u64;
            let at = |offset: usize| if relocated { base + offset as u64 } else { offset as u64 };
            let mut bytes = vec![0u8; SIZE];
            let mut put = |offset: usize, value: &[u8]| bytes[offset..offset + value.len()].copy_from_slice(value);
            // The dynamic section, at 112.
            let mut dynamic = vec![(DT_SYMTAB, at(SYMBOLS)), (DT_STRTAB, at(STRINGS))];
            if gnu {
                dynamic.push((DT_GNU_HASH, at(GNU_HASH)));
            }
            if sysv {
                dynamic.push((DT_HASH, at(SYSV_HASH)));
            }
            dynamic.push((DT_NULL, 0));
            for (i, (tag, value)) in dynamic.iter().enumerate() {
                put(112 + 16 * i, &tag.to_le_bytes());
                put(112 + 16 * i + 8, &value.to_le_bytes());
            }
            // The string table and the symbols (index 0 is the null symbol).
            let names = b"\0credchain_copy_identity\0credchain_undefined\0";
            put(STRINGS, names);
            let symbols: [(u32, u16, u64); 2] = [(1, 5, IDENTITY_VALUE), (25, SHN_UNDEF, 0)];
            for (i, (name, section, value)) in symbols.iter().enumerate() {
                let entry = SYMBOLS + 24 * (i + 1);
                put(entry, &name.to_le_bytes());
                put(entry + 4, &[0x11, 0]); // STB_GLOBAL, STT_OBJECT
                put(entry + 6, &section.to_le_bytes());
                put(entry + 8, &value.to_le_bytes());
                put(entry + 16, &8u64.to_le_bytes());
            }
            // GNU: one bucket, symbols from index 1, one bloom word (not read),
            // the chain of both symbols' hashes, the last with its low bit set.
            let header = [1u32, 1, 1, 6];
            for (i, word) in header.iter().enumerate() {
                put(GNU_HASH + 4 * i, &word.to_le_bytes());
            }
            put(GNU_HASH + 16, &u64::MAX.to_le_bytes());
            put(GNU_HASH + 24, &1u32.to_le_bytes());
            put(GNU_HASH + 28, &(gnu_hash(b"credchain_copy_identity") & !1).to_le_bytes());
            put(GNU_HASH + 32, &(gnu_hash(b"credchain_undefined") | 1).to_le_bytes());
            // SysV: one bucket starting at symbol 2; 2 -> 1 -> end.
            for (i, word) in [1u32, 3, 2, 0, 0, 1].iter().enumerate() {
                put(SYSV_HASH + 4 * i, &word.to_le_bytes());
            }
            for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
                *word = u64::from_le_bytes(chunk.try_into().unwrap());
            }
            let header = |p_type: u32, p_vaddr: u64| libc::Elf64_Phdr {
                p_type,
                p_flags: 4,
                p_offset: 0,
                p_vaddr,
                p_paddr: p_vaddr,
                p_filesz: 0,
                p_memsz: 0,
                p_align: 8,
            };
            // A PT_LOAD first, so that the walk has to look for PT_DYNAMIC.
            Image { words, headers: vec![header(1, 0), header(PT_DYNAMIC, 112)] }
        }

        fn find(&self, name: &[u8]) -> Option<usize> {
            // SAFETY: zero is a valid value of every field (integers and raw pointers).
            let mut info: libc::dl_phdr_info = unsafe { std::mem::zeroed() };
            info.dlpi_addr = self.words.as_ptr() as u64;
            info.dlpi_phdr = self.headers.as_ptr();
            info.dlpi_phnum = self.headers.len() as u16;
            // SAFETY: the image outlives the call.
            unsafe { find_symbol(&info, name) }
        }

        fn address_of_identity(&self) -> usize {
            self.words.as_ptr() as usize + IDENTITY_VALUE as usize
        }
    }

    #[test]
    fn a_symbol_is_found_in_an_image_made_up_in_memory() {
        for relocated in [true, false] {
            for (gnu, sysv) in [(true, false), (false, true), (true, true)] {
                let image = Image::new(relocated, gnu, sysv);
                let case = format!("relocated {relocated}, GNU hash {gnu}, SysV hash {sysv}");
                assert_eq!(image.find(b"credchain_copy_identity"), Some(image.address_of_identity()), "{case}");
                assert_eq!(image.find(b"credchain_undefined"), None, "an undefined symbol; {case}");
                assert_eq!(image.find(b"credchain_copy_identit"), None, "a prefix; {case}");
                assert_eq!(image.find(b"credchain_no_such_symbol"), None, "{case}");
            }
        }
        assert_eq!(Image::new(true, false, false).find(b"credchain_copy_identity"), None, "no hash table");
    }
}
