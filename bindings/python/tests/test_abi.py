"""The binding refuses a library whose ABI it does not speak, and keeps a
copy of credentials only as long as the library says it may."""

from __future__ import annotations

import math

import pytest

from credchain import _api, _ffi


def version(major: int, minor: int) -> int:
    return major << 16 | minor


def test_the_same_major_and_a_minor_at_least_the_bindings_is_accepted() -> None:
    assert _ffi.abi_mismatch("/lib/libcredchain.so", version(_ffi.ABI_MAJOR, _ffi.ABI_MINOR)) is None
    assert _ffi.abi_mismatch("/lib/libcredchain.so", version(_ffi.ABI_MAJOR, _ffi.ABI_MINOR + 3)) is None


def test_another_major_is_refused_naming_both_versions_and_the_path() -> None:
    assert _ffi.abi_mismatch("/opt/x/libcredchain.so", version(_ffi.ABI_MAJOR + 1, 0)) == (
        f"credchain: /opt/x/libcredchain.so has ABI {_ffi.ABI_MAJOR + 1}.0, this binding needs ABI "
        f"{_ffi.ABI_MAJOR}.{_ffi.ABI_MINOR} (same major, minor at least {_ffi.ABI_MINOR}): install matching "
        "versions of the package and the library"
    )


def test_a_library_without_an_abi_version_is_refused_as_older() -> None:
    assert _ffi.abi_mismatch("/old/libcredchain.so", None) == (
        "credchain: /old/libcredchain.so is older than this binding (it has no credchain_abi_version; the binding "
        f"needs ABI {_ffi.ABI_MAJOR}.{_ffi.ABI_MINOR}): install matching versions of the package and the library"
    )


def test_loading_a_library_of_another_major_raises_before_any_other_call(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeFunction:
        def __call__(self) -> int:
            return version(_ffi.ABI_MAJOR + 1, 0)

    class FakeLibrary:
        credchain_abi_version = FakeFunction()

    with pytest.raises(OSError, match=rf"has ABI 2\.0, this binding needs ABI 1\.{_ffi.ABI_MINOR}"):
        _ffi.check_abi("/fake/libcredchain.so", FakeLibrary())  # type: ignore[arg-type]


def test_a_copy_is_reused_until_the_librarys_reuse_until() -> None:
    # An hour-long session: the library says "until 10 minutes before expiry".
    assert _api.reuse_deadline(reuse_until=9_400) == 9_400.0


def test_the_binding_keeps_no_margin_of_its_own() -> None:
    # The library's reuse_until already stops a second before expiry
    # (core/src/cache/snapshot.rs); a second margin here would disagree with Java's.
    assert not hasattr(_api, "EXPIRY_MARGIN_SECONDS")
    assert _api.reuse_deadline(reuse_until=9_999) == 9_999.0


def test_credentials_that_never_expire_are_reused_until_the_generation_moves() -> None:
    assert _api.reuse_deadline(reuse_until=0) == math.inf
