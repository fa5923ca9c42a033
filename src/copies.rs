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

mod elf;

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Once;

use super::types::{
    credchain_credentials, credchain_error, credchain_log_callback, credchain_log_subscriber, credchain_result,
    CREDCHAIN_ABI_MAJOR,
};
use credchain_core::report::LibraryCopyReport;
use credchain_core::log;

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

/// The C functions of one copy, for copies of the same ABI major. Every
/// function of ABI 1.0 is here, so any 1.x copy can forward any of them.
/// Functions added later are appended with a new ABI minor, and `size` says
/// how far a copy's table goes: a newer copy forwarding to an older one
/// must check it before calling such a function and, when the older copy
/// lacks it, refuse with `CREDCHAIN_INTERNAL` naming both copies (rather
/// than serve it itself, which would split the cache). No function has
/// been added after 1.0 yet.
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
    #[allow(clippy::type_complexity)]
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
    #[allow(clippy::type_complexity)]
    pub(crate) dsql_auth_token: extern "C" fn(
        *const c_char,
        *const c_char,
        *const c_char,
        bool,
        i64,
        *mut *mut c_char,
        *mut *mut credchain_error,
    ) -> credchain_result,
}

const IDENTITY_SYMBOL: &CStr = c"credchain_copy_identity";

/// This copy's own table.
fn own_table() -> *const CopyTable {
    // SAFETY: this copy's static identity.
    unsafe { (*super::credchain_copy_identity()).table }
}

/// The decision: null until made; this copy's own table when it serves;
/// another copy's table when it forwards.
static SERVER: AtomicPtr<CopyTable> = AtomicPtr::new(std::ptr::null_mut());

/// The copy to forward to, or `None` when this copy serves. One atomic load
/// once decided.
#[inline]
pub(crate) fn server() -> Option<&'static CopyTable> {
    let decided = SERVER.load(Ordering::Acquire);
    if std::ptr::eq(decided, own_table()) {
        return None;
    }
    // SAFETY: non-null values are tables of loaded copies pinned with
    // RTLD_NODELETE (or this copy's own).
    match unsafe { decided.as_ref() } {
        Some(table) => Some(table),
        None => decide(),
    }
}

/// Forwards the call to the serving copy when it is another one.
macro_rules! forward {
    ($function:ident($($argument:expr),*)) => {
        if let Some(server) = $crate::copies::server() {
            return (server.$function)($($argument),*);
        }
    };
}
pub(crate) use forward;

#[cold]
fn decide() -> Option<&'static CopyTable> {
    let copies = loaded_copies();
    let serving = copies.iter().find(|c| c.abi_major == BUILT_ABI_MAJOR);
    let table: *const CopyTable = match serving {
        Some(copy) if !copy.this && !copy.table.is_null() => {
            pin(&copy.path);
            copy.table
        }
        _ => own_table(),
    };
    warn_about_incompatible(&copies);
    // Racing first calls all reach the same answer; the first store wins.
    let _ = SERVER.compare_exchange(std::ptr::null_mut(), table.cast_mut(), Ordering::AcqRel, Ordering::Acquire);
    let decided = SERVER.load(Ordering::Acquire);
    if std::ptr::eq(decided, own_table()) {
        None
    } else {
        // SAFETY: as in `server`.
        unsafe { decided.as_ref() }
    }
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
    let mut copies: Vec<LoadedCopy> = Vec::new();
    // SAFETY: the callback reads the loaded objects' own memory while the
    // loader keeps them mapped (for the duration of the walk) and makes no
    // loader call.
    unsafe { libc::dl_iterate_phdr(Some(visit), (&mut copies as *mut Vec<LoadedCopy>).cast()) };
    let mut majors_seen = Vec::new();
    for copy in &mut copies {
        if !majors_seen.contains(&copy.abi_major) {
            majors_seen.push(copy.abi_major);
            copy.serving = true;
        }
    }
    copies
}

/// `dl_iterate_phdr`'s callback: adds the object to the list if it is a
/// copy of the library. Only reads memory; never asks the loader (a
/// `dlopen(RTLD_NOLOAD)` of every object would change the loader's own
/// bookkeeping of the host's libraries).
unsafe extern "C" fn visit(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the vector of `loaded_copies`; `info` is valid for
    // the call.
    let (copies, info) = unsafe { (&mut *(data as *mut Vec<LoadedCopy>), &*info) };
    // SAFETY: the object is mapped for the duration of the callback.
    if let Some(identity) = unsafe { elf::find_symbol(info, IDENTITY_SYMBOL.to_bytes()) } {
        // SAFETY: as above; the name is the loader's NUL-terminated string.
        let name = if info.dlpi_name.is_null() { c"" } else { unsafe { CStr::from_ptr(info.dlpi_name) } };
        // SAFETY: the symbol is a copy's `credchain_copy_identity`.
        if let Some(copy) = unsafe { read_identity(identity, name) } {
            copies.push(copy);
        }
    }
    0
}

/// Reads another copy's identity through its exported function.
///
/// # Safety
///
/// `symbol` is the address of a loaded copy's `credchain_copy_identity`.
unsafe fn read_identity(symbol: usize, name: &CStr) -> Option<LoadedCopy> {
    // SAFETY: by the contract, a function taking nothing and returning a
    // static identity whose layout never changes.
    let identity: extern "C" fn() -> *const CopyIdentity = unsafe { std::mem::transmute(symbol) };
    let this = symbol == super::credchain_copy_identity as *const () as usize;
    // SAFETY: a static of the other copy, which is loaded.
    let identity = unsafe { identity().as_ref()? };
    if identity.magic != IDENTITY_MAGIC {
        return None;
    }
    // SAFETY: a static NUL-terminated string of the other copy.
    let version = unsafe { CStr::from_ptr(identity.version) }.to_string_lossy().into_owned();
    let path = if name.is_empty() { own_program() } else { name.to_string_lossy().into_owned() };
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

/// The main program's path (a copy linked into the program itself).
fn own_program() -> String {
    std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "(the program)".to_owned())
}

/// Keeps the serving copy loaded for the life of the process.
fn pin(path: &str) {
    let Ok(path) = CString::new(path) else { return };
    // SAFETY: RTLD_NOLOAD | RTLD_NODELETE marks the loaded object as never
    // to be unloaded; the handle's reference is released at once.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_NODELETE | libc::RTLD_LAZY) };
    if !handle.is_null() {
        // SAFETY: balances the dlopen above; NODELETE stays.
        unsafe { libc::dlclose(handle) };
    }
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
