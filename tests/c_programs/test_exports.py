"""One declaration per export: every function libcredchain exports goes
through `#[export]` (panic boundary, forwarding to the serving copy, its
slot in the copy table), and the copy table, the header and the library's
dynamic symbols agree. The compiler already refuses an `#[export]` whose
slot is missing from the table; this catches an export written without it.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = Path(os.environ.get("CREDCHAIN_LIB_DIR", ROOT / "target" / "release")) / "libcredchain.so"
# Functions that describe the copy they are called in (`#[export(local)]`):
# in the header, not in the copy table.
LOCAL = {"credchain_abi_version", "credchain_version"}
# Exported for the other copies only, not for hosts (`cbindgen:ignore`).
HIDDEN = {"credchain_copy_identity"}


def header_functions() -> set[str]:
    header = (ROOT / "include" / "credchain.h").read_text()
    return set(re.findall(r"\b(credchain_\w+)\(", header)) - {"credchain_log_callback", "credchain_log_subscriber"}


def undeclared_exports(source_dir: Path) -> list[str]:
    """`#[no_mangle]` functions whose attributes lack `#[export]`."""
    found = []
    for path in sorted(source_dir.rglob("*.rs")):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if line.strip() != "#[no_mangle]":
                continue
            attributes = []
            above = number - 1
            while above >= 0 and lines[above].strip().startswith(("#[", "///")):
                attributes.append(lines[above].strip())
                above -= 1
            if not any(a.startswith("#[export") for a in attributes):
                found.append(f"{path.relative_to(source_dir.parent)}:{number + 1}")
    return found


class CopyIdentity(ctypes.Structure):
    _fields_ = [("magic", ctypes.c_uint64), ("abi_major", ctypes.c_uint32), ("abi_minor", ctypes.c_uint32),
                ("version", ctypes.c_char_p), ("table", ctypes.c_void_p)]


def table_entries(library: ctypes.CDLL) -> list[int]:
    """The function addresses in this copy's table, in slot order."""
    identify = library.credchain_copy_identity
    identify.restype = ctypes.POINTER(CopyIdentity)
    table = identify().contents.table
    size = ctypes.c_size_t.from_address(table).value
    pointer = ctypes.sizeof(ctypes.c_void_p)
    return [ctypes.c_void_p.from_address(table + offset).value for offset in range(pointer, size, pointer)]


def test_every_export_in_the_sources_goes_through_the_declaration() -> None:
    assert undeclared_exports(ROOT / "src") == []


def test_an_export_written_without_the_declaration_is_named(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text(
        '/// Declared.\n#[export]\n#[no_mangle]\npub extern "C" fn credchain_a() {}\n\n'
        '/// Not declared.\n#[no_mangle]\npub extern "C" fn credchain_b() {}\n')
    assert undeclared_exports(tmp_path / "src") == ["src/lib.rs:7"]


def test_the_copy_table_holds_exactly_the_header_functions_that_forward() -> None:
    library = ctypes.CDLL(str(LIBRARY))
    forwarded = header_functions() - LOCAL
    addresses = {name: ctypes.cast(getattr(library, name), ctypes.c_void_p).value for name in forwarded}
    entries = table_entries(library)
    assert len(entries) == len(set(entries)) == len(forwarded), (len(entries), sorted(forwarded))
    missing = sorted(name for name, address in addresses.items() if address not in entries)
    assert missing == [], "exported but not in the copy table"


def test_the_library_exports_nothing_the_header_does_not_declare() -> None:
    symbols = subprocess.run(["nm", "-D", "--defined-only", str(LIBRARY)], capture_output=True, text=True,
                             check=True).stdout
    exported = {line.split()[-1] for line in symbols.splitlines() if line.split()[-1].startswith("credchain_")}
    assert exported == header_functions() | HIDDEN


def test_the_library_holds_no_code_of_the_command() -> None:
    """`credchain serve` (and the rest of the command) live in the command's
    crate: none of its functions is in what drivers load. The release
    profile keeps the symbol table (the shipped dist profile strips it)."""
    symbols = subprocess.run(["nm", "--defined-only", str(LIBRARY)], capture_output=True, text=True,
                             check=True).stdout
    assert "credchain_core" in symbols, "the release build keeps Rust symbol names"
    assert [line for line in symbols.splitlines() if "credchain_command" in line] == []
