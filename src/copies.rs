//! One serving copy per process, however many copies of the library are
//! loaded.
//!
//! Drivers ship their own copy of libcredchain (a Python wheel bundles one,
//! the jar extracts one, a C driver links one), and each copy would
//! otherwise run its own cache and refresh. So every copy exports its
//! identity ([`super::credchain_copy_identity`]) and a table of its C functions;
//! on its first call a copy walks the loaded objects in load order
//! (`dl_iterate_phdr`, which every copy sees alike) and picks the first copy
//! whose ABI major equals its own. If that is itself, it serves; otherwise
//! it forwards every call to that copy's table, so that one cache, one
//! refresher, one runtime, one token cache and one set of log subscribers
//! serve the whole process, and memory handed out by the serving copy is
//! freed by it. No lock between copies is needed: they all reach the same
//! answer. The serving copy is pinned (`RTLD_NODELETE`) by the first copy
//! that forwards to it.
//!
//! Copies with another ABI major cannot share: each group serves itself,
//! and the copy loaded second logs a warning naming both paths, once.
//! `credchain_diagnose` lists every copy.

use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Once;

use super::types::{
    credchain_credentials, credchain_error, credchain_log_callback, credchain_log_subscriber, credchain_result,
    CREDCHAIN_ABI_MAJOR,
};
use credchain_core::log;
use credchain_core::platform;
use credchain_core::report::LibraryCopyReport;
use credchain_core::Error;

/// The ABI major this copy was built with. A test build may bump it
/// (`CREDCHAIN_TEST_ABI_MAJOR` at build time) to play an incompatible copy.
pub(crate) const BUILT_ABI_MAJOR: u32 = match option_env!("CREDCHAIN_TEST_ABI_MAJOR") {
    Some(major) => parse_u32(major),
    None => CREDCHAIN_ABI_MAJOR,
};

const fn parse_u32(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut value = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "CREDCHAIN_TEST_ABI_MAJOR must be a number");
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// Marks an identity as credchain's, whatever its version.
pub(crate) const IDENTITY_MAGIC: u64 = 0x6372_6564_6368_6e31; // "credchn1"

/// What every copy says about itself. Its layout never changes, so that a
/// copy can read any other copy's, whatever their versions.
#[repr(C)]
pub struct CopyIdentity {
    pub(crate) magic: u64,
    pub(crate) abi_major: u32,
    pub(crate) abi_minor: u32,
    pub(crate) version: *const c_char,
    /// This copy's functions; only for copies of the same ABI major.
    pub(crate) table: *const CopyTable,
}

/// The C functions of one copy, for copies of the same ABI major: one slot
/// per export, named as the export without its `credchain_` prefix
/// (`#[export]` forwards through it, so an export without a slot does not
/// compile).
///
/// How the ABI grows: a new function is appended at the end, under a
/// comment naming the ABI minor that added it, and `CREDCHAIN_ABI_MINOR`
/// goes up by one; nothing is removed, reordered or retyped within a major.
/// `size` says how far a copy's table goes, so a newer copy forwarding to
/// an older serving copy reads a slot only when that copy has it
/// ([`slot!`]); when it has not, the call fails with
/// `CREDCHAIN_UNSUPPORTED` naming both copies, rather than being served
/// by the newer copy itself, which would split the process's cache.
#[repr(C)]
pub struct CopyTable {
    pub(crate) size: usize,
    pub(crate) get_credentials:
        extern "C" fn(*const c_char, *mut *const credchain_credentials, *mut *mut credchain_error) -> credchain_result,
    pub(crate) free_credentials: extern "C" fn(*const credchain_credentials),
    pub(crate) invalidate: extern "C" fn(*const c_char, *mut *mut credchain_error) -> credchain_result,
    pub(crate) reload_environment: extern "C" fn(),
    pub(crate) generation_counter: extern "C" fn() -> *const u64,
    pub(crate) diagnose: extern "C" fn(*const c_char, *mut *mut c_char, *mut *mut credchain_error) -> credchain_result,
    pub(crate) error_code: extern "C" fn(*const credchain_error) -> credchain_result,
    pub(crate) error_message: extern "C" fn(*const credchain_error) -> *const c_char,
    pub(crate) error_source: extern "C" fn(*const credchain_error) -> *const c_char,
    pub(crate) error_free: extern "C" fn(*mut credchain_error),
    pub(crate) set_log_callback: extern "C" fn(u32, credchain_log_callback) -> credchain_result,
    pub(crate) log_subscribe: extern "C" fn(
        u32,
        credchain_log_subscriber,
        *mut c_void,
        *mut u64,
        *mut *mut credchain_error,
    ) -> credchain_result,
    pub(crate) log_unsubscribe: extern "C" fn(u64, *mut *mut credchain_error) -> credchain_result,
    pub(crate) shutdown: extern "C" fn(),
    pub(crate) string_free: extern "C" fn(*mut c_char),
    #[allow(clippy::type_complexity, reason = "a C function pointer type, spelled as the header spells it")]
    pub(crate) rds_auth_token: extern "C" fn(
        *const c_char,
        *const c_char,
        u16,
        *const c_char,
        *const c_char,
        i64,
        *mut *mut c_char,
        *mut *mut credchain_error,
    ) -> credchain_result,
    #[allow(clippy::type_complexity, reason = "a C function pointer type, spelled as the header spells it")]
    pub(crate) dsql_auth_token: extern "C" fn(
        *const c_char,
        *const c_char,
        *const c_char,
        bool,
        i64,
        *mut *mut c_char,
        *mut *mut credchain_error,
    ) -> credchain_result,
    // ABI 1.1
    pub(crate) token_fingerprint:
        extern "C" fn(*const c_char, *mut *mut c_char, *mut *mut credchain_error) -> credchain_result,
}

/// The size a table reports: its full size, or (in a test build playing an
/// older copy, `CREDCHAIN_TEST_ABI_MINOR` at build time) the size of the
/// table of that minor, as an older copy's table really is.
pub(crate) const TABLE_SIZE: usize = if BUILT_ABI_MINOR == 0 {
    std::mem::offset_of!(CopyTable, token_fingerprint)
} else {
    std::mem::size_of::<CopyTable>()
};

/// The ABI minor this copy was built with (a test build may play an older
/// one, with [`TABLE_SIZE`]).
pub(crate) const BUILT_ABI_MINOR: u32 = match option_env!("CREDCHAIN_TEST_ABI_MINOR") {
    Some(minor) => parse_u32(minor),
    None => super::types::CREDCHAIN_ABI_MINOR,
};

const IDENTITY_SYMBOL: &CStr = c"credchain_copy_identity";

/// This copy's own table.
fn own_table() -> *const CopyTable {
    // SAFETY: this copy's static identity.
    unsafe { (*super::credchain_copy_identity()).table }
}

/// The decision: null until made; this copy's own table when it serves;
/// another copy's table when it forwards.
static SERVER: AtomicPtr<CopyTable> = AtomicPtr::new(std::ptr::null_mut());

/// The table of the copy to forward to, or `None` when this copy serves.
/// One atomic load once decided. The table may be shorter than this copy's
/// (an older copy): read its slots only through [`slot!`].
#[inline]
pub(crate) fn server() -> Option<*const CopyTable> {
    let decided = SERVER.load(Ordering::Acquire);
    if std::ptr::eq(decided, own_table()) {
        return None;
    }
    if decided.is_null() {
        decide()
    } else {
        Some(decided)
    }
}

/// The function in slot `$name` of `$table`, or `None` when that table
/// ends before the slot (its copy predates the function).
///
/// # Safety
///
/// `$table` is the table of a loaded copy of this ABI major, whose first
/// field is its size in bytes.
macro_rules! slot {
    ($table:expr, $name:ident) => {{
        let table: *const $crate::copies::CopyTable = $table;
        let size = ::std::ptr::addr_of!((*table).size).read();
        // The slot's end from the type alone: a pointer to a slot past the
        // end of an older copy's table must never be formed.
        let end = ::std::mem::offset_of!($crate::copies::CopyTable, $name)
            + $crate::copies::field_size(|t: &$crate::copies::CopyTable| &t.$name);
        if size >= end {
            ::std::option::Option::Some(::std::ptr::addr_of!((*table).$name).read())
        } else {
            ::std::option::Option::None
        }
    }};
}
pub(crate) use slot;

/// The size of the field `_field` picks (the closure is never called: it
/// names the field's type without a table to look at).
pub(crate) fn field_size<T>(_field: impl Fn(&CopyTable) -> &T) -> usize {
    std::mem::size_of::<T>()
}

/// The error for a function the serving copy lacks.
pub(crate) fn missing_function(name: &str) -> Error {
    let copies = loaded_copies();
    let serving = copies.iter().find(|c| c.serving && c.abi_major == BUILT_ABI_MAJOR);
    let this = copies.iter().find(|c| c.this);
    let describe = |copy: Option<&LoadedCopy>| match copy {
        Some(copy) => format!("{} (version {}, ABI {})", copy.path, copy.version, copy.abi),
        None => "(unknown)".to_owned(),
    };
    Error::unsupported(format!(
        "{name} is not available: the copy of libcredchain that serves this process, {}, predates it; this copy, \
         {}, forwards every call to the serving one so that the process keeps one cache. Load the newer copy \
         first, or update the older one",
        describe(serving),
        describe(this)
    ))
}

#[cold]
fn decide() -> Option<*const CopyTable> {
    let copies = loaded_copies();
    let serving = copies.iter().find(|c| c.abi_major == BUILT_ABI_MAJOR);
    let table: *const CopyTable = match serving {
        Some(copy) if !copy.this && !copy.table.is_null() => {
            platform::pin_loaded_object(&copy.path);
            copy.table
        }
        _ => own_table(),
    };
    warn_about_incompatible(&copies);
    // Racing first calls all reach the same answer; the first store wins.
    let _ = SERVER.compare_exchange(std::ptr::null_mut(), table.cast_mut(), Ordering::AcqRel, Ordering::Acquire);
    let decided = SERVER.load(Ordering::Acquire);
    (!std::ptr::eq(decided, own_table())).then_some(decided.cast_const())
}

/// One copy of the library found in the process.
#[derive(Clone, Debug)]
pub struct LoadedCopy {
    /// The file it was loaded from.
    pub path: String,
    /// Its package version.
    pub version: String,
    /// Its ABI version, `MAJOR.MINOR`.
    pub abi: String,
    /// Whether it serves (every copy of its ABI major forwards to it).
    pub serving: bool,
    /// Whether it is the copy that answered this call.
    pub this: bool,
    abi_major: u32,
    table: *const CopyTable,
}

impl LoadedCopy {
    /// As the diagnosis reports it.
    pub fn report(&self) -> LibraryCopyReport {
        LibraryCopyReport {
            path: self.path.clone(),
            version: self.version.clone(),
            abi: self.abi.clone(),
            serving: self.serving,
        }
    }
}

/// Every copy of the library loaded now, in load order, with which one
/// serves each ABI major.
pub fn loaded_copies() -> Vec<LoadedCopy> {
    let mut copies: Vec<LoadedCopy> = platform::loaded_objects_exporting(IDENTITY_SYMBOL)
        .into_iter()
        // SAFETY: each address is a loaded copy's `credchain_copy_identity`.
        .filter_map(|object| unsafe { read_identity(object.address, object.path) })
        .collect();
    let mut majors_seen = Vec::new();
    for copy in &mut copies {
        if !majors_seen.contains(&copy.abi_major) {
            majors_seen.push(copy.abi_major);
            copy.serving = true;
        }
    }
    copies
}

/// Reads another copy's identity through its exported function.
///
/// # Safety
///
/// `symbol` is the address of a loaded copy's `credchain_copy_identity`.
unsafe fn read_identity(symbol: usize, path: String) -> Option<LoadedCopy> {
    // SAFETY: by the contract, a function taking nothing and returning a
    // static identity whose layout never changes.
    // The address becomes a pointer with the provenance the loader exposed
    // (a bare integer transmuted to a function pointer has none: Miri
    // reports calling it as undefined behaviour).
    let identity: extern "C" fn() -> *const CopyIdentity =
        unsafe { std::mem::transmute(std::ptr::with_exposed_provenance::<()>(symbol)) };
    let this = symbol == super::credchain_copy_identity as *const () as usize;
    // SAFETY: a static of the other copy, which is loaded.
    let identity = unsafe { identity().as_ref()? };
    if identity.magic != IDENTITY_MAGIC {
        return None;
    }
    // SAFETY: a static NUL-terminated string of the other copy.
    let version = unsafe { CStr::from_ptr(identity.version) }.to_string_lossy().into_owned();
    Some(LoadedCopy {
        path,
        version,
        abi: format!("{}.{}", identity.abi_major, identity.abi_minor),
        serving: false,
        this,
        abi_major: identity.abi_major,
        table: if identity.abi_major == BUILT_ABI_MAJOR { identity.table } else { std::ptr::null() },
    })
}

/// Logs, once, every copy loaded before this one that cannot share with
/// it: so a pair of incompatible copies is reported once in the process, by
/// the one loaded second (the first may have decided before the second
/// existed).
fn warn_about_incompatible(copies: &[LoadedCopy]) {
    static WARNED: Once = Once::new();
    let Some(position) = copies.iter().position(|c| c.this) else { return };
    let this = &copies[position];
    let earlier: Vec<&LoadedCopy> = copies[..position].iter().filter(|c| c.abi_major != BUILT_ABI_MAJOR).collect();
    if earlier.is_empty() {
        return;
    }
    WARNED.call_once(|| {
        for other in earlier {
            log::warn(format_args!(
                "two copies of libcredchain cannot share one cache: {} (ABI {}, version {}) and {} (ABI {}, version \
                 {}); each keeps its own credentials and refresh. Load one copy, or copies of the same ABI major",
                this.path, this.abi, this.version, other.path, other.abi, other.version
            ));
        }
    });
}

/// Settles, in a unit test, what [`decide`] settles in a test binary (no
/// loaded object exports an identity, so this copy serves), without the walk
/// of the loaded objects: the exports can then be called under Miri, which
/// cannot run `dl_iterate_phdr` (`scripts/miri`).
#[cfg(test)]
pub(crate) fn serve_in_this_copy() {
    let _ = SERVER.compare_exchange(std::ptr::null_mut(), own_table().cast_mut(), Ordering::AcqRel, Ordering::Acquire);
}

/// Another copy's identity and table, made up in memory and read through
/// the functions that read a loaded copy's (`read_identity`, `slot!`).
/// An older copy's table is shorter than this copy's type: the made-up
/// tables are allocations of exactly their reported size, so that Miri
/// (`scripts/miri`) reports any read past a table's end.
#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{alloc_zeroed, dealloc, Layout};
    use std::cell::Cell;

    /// An ABI 1.0 copy's table ends before `token_fingerprint`.
    const TABLE_1_0_SIZE: usize = std::mem::offset_of!(CopyTable, token_fingerprint);

    /// The first `size` bytes of this copy's table, in an allocation of
    /// exactly `size` bytes whose first field says `size`.
    struct MadeUpTable {
        bytes: *mut u8,
        layout: Layout,
    }

    impl MadeUpTable {
        fn new(size: usize) -> MadeUpTable {
            let layout = Layout::from_size_align(size, std::mem::align_of::<CopyTable>()).unwrap();
            // SAFETY: `layout` is not zero-sized; the copy stays inside both
            // this allocation and this copy's (larger) static table.
            unsafe {
                let bytes = alloc_zeroed(layout);
                assert!(!bytes.is_null());
                std::ptr::copy_nonoverlapping(own_table().cast::<u8>(), bytes, size);
                bytes.cast::<usize>().write(size);
                MadeUpTable { bytes, layout }
            }
        }

        fn table(&self) -> *const CopyTable {
            self.bytes.cast_const().cast()
        }
    }

    impl Drop for MadeUpTable {
        fn drop(&mut self) {
            // SAFETY: allocated in `new` with this layout.
            unsafe { dealloc(self.bytes, self.layout) };
        }
    }

    thread_local! {
        static IDENTITY: Cell<*const CopyIdentity> = const { Cell::new(std::ptr::null()) };
    }

    /// The other copy's `credchain_copy_identity`.
    extern "C" fn made_up_identity() -> *const CopyIdentity {
        IDENTITY.with(Cell::get)
    }

    fn read_made_up(identity: &CopyIdentity) -> Option<LoadedCopy> {
        IDENTITY.with(|cell| cell.set(identity));
        // SAFETY: the address of a function returning an identity that
        // outlives the call.
        unsafe { read_identity(made_up_identity as *const () as usize, "/opt/other/libcredchain.so".to_owned()) }
    }

    fn identity(magic: u64, abi_major: u32, abi_minor: u32, table: *const CopyTable) -> CopyIdentity {
        CopyIdentity { magic, abi_major, abi_minor, version: c"0.0.9".as_ptr(), table }
    }

    /// What a slot's function answers when called without an out pointer:
    /// every export refuses that before doing anything else.
    fn refuses_a_null_out(code: credchain_result) {
        assert_eq!(code, credchain_result::CREDCHAIN_INVALID_ARGUMENT);
    }

    // The slots are checked by calling them (through the copied pointers),
    // not by comparing addresses: Rust does not promise one address per
    // function, and Miri gives a function a new one each time it becomes a
    // pointer.

    #[test]
    fn an_older_copys_shorter_table_is_read_only_up_to_its_end() {
        serve_in_this_copy();
        let older = MadeUpTable::new(TABLE_1_0_SIZE);
        let copy = read_made_up(&identity(IDENTITY_MAGIC, BUILT_ABI_MAJOR, 0, older.table())).unwrap();
        assert_eq!((copy.version.as_str(), copy.abi.clone()), ("0.0.9", format!("{BUILT_ABI_MAJOR}.0")));
        assert!(std::ptr::eq(copy.table, older.table()));
        // SAFETY: a table of this ABI major whose first field is its size.
        let (first, last, newer) = unsafe {
            (
                slot!(copy.table, get_credentials),
                slot!(copy.table, dsql_auth_token),
                slot!(copy.table, token_fingerprint),
            )
        };
        let first = first.expect("every table has the first slot");
        refuses_a_null_out(first(std::ptr::null(), std::ptr::null_mut(), std::ptr::null_mut()));
        let last = last.expect("ABI 1.0's last slot");
        let null = std::ptr::null();
        refuses_a_null_out(last(null, c"h".as_ptr(), null, false, 0, std::ptr::null_mut(), std::ptr::null_mut()));
        assert!(newer.is_none(), "ABI 1.1's slot is past the end of a 1.0 table");
    }

    #[test]
    fn a_copy_of_this_minor_has_every_slot() {
        serve_in_this_copy();
        let same = MadeUpTable::new(std::mem::size_of::<CopyTable>());
        let copy = read_made_up(&identity(IDENTITY_MAGIC, BUILT_ABI_MAJOR, BUILT_ABI_MINOR, same.table())).unwrap();
        // SAFETY: as above.
        let (newer, free) = unsafe { (slot!(copy.table, token_fingerprint), slot!(copy.table, string_free)) };
        let (newer, free) = (newer.expect("ABI 1.1's slot"), free.expect("an ABI 1.0 slot"));
        let mut fingerprint: *mut c_char = std::ptr::null_mut();
        let code = newer(c"token".as_ptr(), &mut fingerprint, std::ptr::null_mut());
        assert_eq!(code, credchain_result::CREDCHAIN_OK);
        // SAFETY: a C string handed out by the call above, freed below.
        assert!(!unsafe { CStr::from_ptr(fingerprint) }.is_empty());
        free(fingerprint);
        refuses_a_null_out(newer(c"token".as_ptr(), std::ptr::null_mut(), std::ptr::null_mut()));
    }

    #[test]
    fn another_major_is_listed_without_its_table_and_a_stranger_not_at_all() {
        let table = MadeUpTable::new(std::mem::size_of::<CopyTable>());
        let other_major = read_made_up(&identity(IDENTITY_MAGIC, BUILT_ABI_MAJOR + 1, 0, table.table())).unwrap();
        assert_eq!(other_major.abi, format!("{}.0", BUILT_ABI_MAJOR + 1));
        assert!(!other_major.this);
        assert!(other_major.table.is_null(), "never forwarded to");
        assert!(read_made_up(&identity(IDENTITY_MAGIC ^ 1, BUILT_ABI_MAJOR, 0, table.table())).is_none());
    }

    #[test]
    fn this_copys_own_identity_is_read_as_any_other() {
        let symbol = crate::credchain_copy_identity as *const () as usize;
        // SAFETY: this copy's exported identity function.
        let copy = unsafe { read_identity(symbol, "this".to_owned()) }.unwrap();
        // Whether it is this copy is decided by comparing function
        // addresses, which only a real build makes meaningful (see above).
        #[cfg(not(miri))]
        assert!(copy.this);
        assert_eq!(copy.version, env!("CARGO_PKG_VERSION"));
        assert!(std::ptr::eq(copy.table, own_table()));
        // SAFETY: this copy's own table.
        let newest = unsafe { slot!(copy.table, token_fingerprint) };
        assert_eq!(newest.is_some(), TABLE_SIZE == std::mem::size_of::<CopyTable>());
    }
}
