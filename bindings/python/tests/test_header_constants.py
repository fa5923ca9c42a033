"""The binding's constants and C signatures against include/credchain.h.

A change to the ABI (a new result code, a renumbered log level, a parameter
added to a function) must fail here instead of leaving the binding silently
wrong."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

import pytest

from credchain import _api, _ffi
from credchain._errors import ErrorCode

HEADER = (Path(__file__).resolve().parents[3] / "include" / "credchain.h").read_text()


def enum_values(name: str) -> dict[str, int]:
    body = re.search(r"enum %s\b[^{]*\{(.*?)\};" % name, HEADER, re.S)
    assert body, f"enum {name} not found in the header"
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"\b(CREDCHAIN_\w+) = (\d+)", body.group(1))}


def parameter_counts() -> dict[str, int]:
    counts = {}
    for m in re.finditer(r"^[a-z_][\w ]*?\**\s*\b(credchain_\w+)\(([^;]*?)\);", HEADER, re.M | re.S):
        params = m.group(2).strip()
        counts[m.group(1)] = 0 if params in ("", "void") else params.count(",") + 1
    return counts


def test_result_codes_match_the_header() -> None:
    header = {name.removeprefix("CREDCHAIN_"): value for name, value in enum_values("credchain_result").items()}
    assert header == {code.name: code.value for code in ErrorCode}


def test_log_levels_match_the_header() -> None:
    header = enum_values("credchain_log_level")
    binding = {f"CREDCHAIN_{name}": getattr(_ffi, name) for name in dir(_ffi) if name.startswith("LOG_")
               and isinstance(getattr(_ffi, name), int)}
    assert header == binding


def test_every_declared_function_has_the_headers_parameter_count() -> None:
    lib = _api.library().cdll
    counts = parameter_counts()
    assert len(counts) >= 16, counts
    declared = {name: len(getattr(lib, name).argtypes) for name in counts if getattr(lib, name).argtypes is not None}
    assert declared, "the binding declares no argtypes"
    assert declared == {name: counts[name] for name in declared}


def define_value(name: str) -> int:
    found = re.search(r"^#define %s (\d+)$" % name, HEADER, re.M)
    assert found, f"#define {name} not found in the header"
    return int(found.group(1))


def test_the_abi_version_matches_the_header() -> None:
    assert (_ffi.ABI_MAJOR, _ffi.ABI_MINOR) == (define_value("CREDCHAIN_ABI_MAJOR"), define_value("CREDCHAIN_ABI_MINOR"))


def test_the_credentials_struct_has_the_headers_fields_in_order() -> None:
    body = re.search(r"typedef struct credchain_credentials \{(.*?)\} credchain_credentials;", HEADER, re.S)
    assert body, "struct credchain_credentials not found in the header"
    fields = re.findall(r"^\s+[\w ]+?\**\s*\b(\w+);$", body.group(1), re.M)
    assert fields == [name for name, _ in _ffi.CCredentials._fields_]


@pytest.mark.parametrize("name", ["credchain_get_credentials", "credchain_invalidate", "credchain_rds_auth_token",
                                  "credchain_dsql_auth_token", "credchain_diagnose", "credchain_reload_environment",
                                  "credchain_log_subscribe", "credchain_log_unsubscribe", "credchain_abi_version"])
def test_the_functions_the_binding_calls_are_declared(name: str) -> None:
    assert name in parameter_counts()
    assert getattr(_api.library().cdll, name).argtypes is not None, f"{name} has no argtypes in _ffi"
