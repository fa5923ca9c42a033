"""The Python API: types, errors, arguments, the hot path and its cache."""

from __future__ import annotations

import ctypes
import datetime
import pickle
import time
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest

import credchain
from credchain import _api
from credchain._credentials import Credentials
from isolation import fingerprint, run_child

UTC = datetime.timezone.utc


def write(home: Path, relative: str, text: str) -> None:
    path = home / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


CREDS_DEFAULT_AND_ALPHA = (
    "[default]\naws_access_key_id = AKIACASEDEFAULT00001\naws_secret_access_key = case-secret\n"
    "[alpha]\naws_access_key_id = AKIACASEALPHA0000001\naws_secret_access_key = alpha-secret\n"
)


# ------------------------------------------------------------------ library


def test_version_matches_the_package() -> None:
    assert credchain.version() == "0.1.0"
    assert credchain.__version__ == "0.1.0"


def test_library_path_honours_CREDCHAIN_LIBRARY(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDCHAIN_LIBRARY", "/nonexistent/libcredchain.so")
    assert credchain.library_path() == "/nonexistent/libcredchain.so"


def test_generation_counter_is_read_from_memory() -> None:
    lib = _api.library()
    address = lib.cdll.credchain_generation_counter()
    assert ctypes.addressof(lib.generation) == address
    assert credchain.generation() == ctypes.c_uint64.from_address(address).value


# ------------------------------------------------------------------ arguments


@pytest.mark.parametrize("bad", [123, b"default", 1.5, ["default"], object()])
def test_non_str_profile_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError, match="profile must be a str or None"):
        credchain.get_credentials(bad)
    with pytest.raises(TypeError, match="profile must be a str or None"):
        credchain.invalidate(bad)


def test_embedded_nul_is_invalid_argument() -> None:
    with pytest.raises(credchain.InvalidArgumentError) as info:
        credchain.get_credentials("dev\x00prod")
    assert info.value.code == credchain.ErrorCode.INVALID_ARGUMENT
    assert info.value.code == 1
    assert info.value.message == "profile name contains an embedded NUL character"
    with pytest.raises(credchain.InvalidArgumentError):
        credchain.invalidate("\x00")


def test_unencodable_profile_is_invalid_argument() -> None:
    with pytest.raises(credchain.InvalidArgumentError, match="not encodable as UTF-8"):
        credchain.get_credentials("dev\udc80")


def test_unknown_profile_names_the_profile(home: Path) -> None:
    result = run_child("child_cases.py", home, {}, ["unknown_profile"])
    assert result["type"] == "ProfileNotFoundError"
    assert result["code"] == 3
    assert "no-such-profile-xyz" in result["message"]
    assert result["str"] == result["message"]


def test_nothing_configured_is_no_credentials(home: Path) -> None:
    result = run_child("child_cases.py", home, {}, ["no_credentials"])
    assert result == {"type": "NoCredentialsError", "code": 2, "is_base": True}


# ------------------------------------------------------------------ errors


ERROR_CLASSES = [
    (1, credchain.InvalidArgumentError),
    (2, credchain.NoCredentialsError),
    (3, credchain.ProfileNotFoundError),
    (4, credchain.PartialCredentialsError),
    (5, credchain.SourceFailedError),
    (6, credchain.CredchainTimeoutError),
    (7, credchain.InternalError),
    (8, credchain.InvalidConfigError),
    (9, credchain.UnsupportedError),
    (10, credchain.ExhaustedError),
]


@pytest.mark.parametrize("code,cls", ERROR_CLASSES)
def test_one_exception_class_per_code(code: int, cls: type) -> None:
    from credchain._errors import error_for

    exc = error_for(code, "the message", "env")
    assert type(exc) is cls
    assert isinstance(exc, credchain.CredchainError)
    assert exc.code == code and isinstance(exc.code, credchain.ErrorCode)
    assert exc.message == "the message" and str(exc) == "the message"
    assert exc.source == "env"
    clone = pickle.loads(pickle.dumps(exc))
    assert type(clone) is cls and clone.code == code and clone.message == "the message" and clone.source == "env"


def test_unknown_code_is_the_base_class() -> None:
    from credchain._errors import error_for

    exc = error_for(99, "from the future")
    assert type(exc) is credchain.CredchainError
    assert exc.code == 99 and exc.message == "from the future" and exc.source is None


# ------------------------------------------------------------------ Credentials


def make(expiration: Optional[datetime.datetime] = None, token: Optional[str] = "tok-value") -> Credentials:
    return Credentials("AKIAUNITTEST00000001", "unit/secret+value", token, expiration, "env", "123456789012")


def test_credentials_are_immutable() -> None:
    creds = make()
    with pytest.raises(AttributeError):
        creds.access_key = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del creds.token
    with pytest.raises(AttributeError):
        creds.extra = 1  # type: ignore[attr-defined]
    assert creds == make() and hash(creds) == hash(make())
    assert pickle.loads(pickle.dumps(creds)) == creds


def test_repr_never_shows_secrets() -> None:
    creds = make(datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    text = repr(creds)
    assert "unit/secret+value" not in text and "tok-value" not in text
    assert "AKIAUNITTEST00000001" not in text
    assert text == (
        "Credentials(access_key='****************0001', secret_key='<hidden>', token='<hidden>', "
        "expiration='2030-01-02T03:04:05+00:00', source='env', account_id='123456789012')"
    )
    assert str(creds) == text
    assert "token=None" in repr(make(token=None))


def test_naive_expiration_is_rejected() -> None:
    with pytest.raises(ValueError):
        make(datetime.datetime(2030, 1, 1))


def test_snapshot_from_the_library(home: Path) -> None:
    write(home, ".aws/credentials", CREDS_DEFAULT_AND_ALPHA)
    result = run_child("child_cases.py", home, {}, ["snapshot_fields"])
    assert result == {
        "access_key": "AKIACASEDEFAULT00001",
        "secret_key": fingerprint("case-secret"),
        "token": None,
        "source": "shared-credentials-file",
        "account_id": None,
        "expiration": None,
        "expiration_aware": False,
        "repr_has_secret": False,
        "repr_has_token": False,
        "repr_has_full_access_key": False,
        "repr_tail": True,
    }


def test_expiring_snapshot_has_an_aware_utc_expiration(home: Path) -> None:
    expiry = (datetime.datetime.now(UTC) + datetime.timedelta(hours=3)).replace(microsecond=0)
    env = {
        "AWS_ACCESS_KEY_ID": "AKIACASEENV000000001",
        "AWS_SECRET_ACCESS_KEY": "env-case-secret",
        "AWS_SESSION_TOKEN": "env-case-token",
        "AWS_CREDENTIAL_EXPIRATION": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    result = run_child("child_cases.py", home, env, ["snapshot_fields"])
    assert result["source"] == "env"
    assert result["token"] == fingerprint("env-case-token")
    assert result["expiration"] == expiry.isoformat()
    assert result["expiration_aware"] is True
    assert result["repr_has_secret"] is False and result["repr_has_token"] is False


# ------------------------------------------------------------------ hot path


def test_hot_path_does_not_call_into_the_library(home: Path) -> None:
    write(home, ".aws/credentials", CREDS_DEFAULT_AND_ALPHA)
    result = run_child("child_cases.py", home, {}, ["hot_path"])
    assert result["same_object"] is True
    assert result["warm_up_calls"] in (1, 2)
    assert result["calls_during_10000"] == 0
    assert result["generation_increased"] is True
    assert result["invalidate_then_warm_calls"] in (1, 2)
    assert result["calls_during_1000_after_invalidate"] == 0
    assert result["calls_during_2000_mixed"] == 0
    default = {"access_key": "AKIACASEDEFAULT00001", "secret_key": fingerprint("case-secret"), "token": None,
               "source": "shared-credentials-file"}
    assert result["first"] == default and result["second"] == default


def test_invalidate_picks_up_a_rotated_file(home: Path) -> None:
    write(home, ".aws/credentials", CREDS_DEFAULT_AND_ALPHA)
    result = run_child("child_cases.py", home, {}, ["rotation_after_invalidate"])
    assert result["first"]["access_key"] == "AKIACASEDEFAULT00001"
    assert result["second"] == {
        "access_key": "AKIACASEROTATED00002",
        "secret_key": fingerprint("rotated-secret"),
        "token": None,
        "source": "shared-credentials-file",
    }


def test_the_environment_is_read_at_load_and_again_only_on_request(home: Path) -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIACASEENVATLOAD001", "AWS_SECRET_ACCESS_KEY": "load-secret"}
    result = run_child("child_cases.py", home, env, ["environment_read_at_load_and_on_request"])
    assert result["first"]["access_key"] == "AKIACASEENVATLOAD001"
    # Writing os.environ is not seen: the library never reads it on its own.
    assert result["unchanged"]["access_key"] == "AKIACASEENVATLOAD001"
    assert result["reloaded"] == {
        "access_key": "AKIACASEENVCHANGED02",
        "secret_key": fingerprint("changed-secret"),
        "token": None,
        "source": "env",
    }


class FakeFetch:
    """Stands in for the one call into C, to drive the cache rules exactly."""

    def __init__(self, results: List[Credentials]) -> None:
        self.results = results
        self.profiles: List[Optional[str]] = []

    def __call__(self, profile: Optional[str]) -> Credentials:
        self.profiles.append(profile)
        return self.results[min(len(self.profiles), len(self.results)) - 1]


@pytest.fixture
def fake_library(monkeypatch: pytest.MonkeyPatch) -> ctypes.c_uint64:
    generation = ctypes.c_uint64(7)
    monkeypatch.setattr(_api, "_lib", object())
    monkeypatch.setattr(_api, "_generation", generation)
    monkeypatch.setattr(_api, "_cache", {})
    return generation


def use_fetch(monkeypatch: pytest.MonkeyPatch, fetch: "FakeFetch", reuse_until: float = 0) -> None:
    """Answers the binding's fetches from `fetch`, with the library's
    `reuse_until`: the one given, else what the library gives for expiring
    credentials whose mandatory window is shorter than its margin, one
    second before expiry (core/src/cache/snapshot.rs, `REUSE_MARGIN`)."""

    def fetch_with_reuse(profile: Optional[str]) -> Tuple[Credentials, float]:
        credentials = fetch(profile)
        # The expiry as given (fractional seconds): truncating it made the
        # "1.5 s left" case flaky when the clock's fraction was over half.
        expiration = credentials.expiration.timestamp() if credentials.expiration else 0.0
        library_reuse_until = reuse_until or (expiration - 1.0 if expiration else 0.0)
        return credentials, _api.reuse_deadline(library_reuse_until)

    monkeypatch.setattr(_api, "fetch_with_reuse", fetch_with_reuse)


def test_cache_reused_while_generation_unchanged(monkeypatch: pytest.MonkeyPatch, fake_library: ctypes.c_uint64) -> None:
    later = datetime.datetime.now(UTC) + datetime.timedelta(minutes=30)
    first, second = make(later), make(later, token="tok-2")
    fetch = FakeFetch([first, second])
    use_fetch(monkeypatch, fetch)
    assert credchain.get_credentials() is first
    assert credchain.get_credentials() is first
    assert fetch.profiles == [None]
    fake_library.value += 1  # the library changed a snapshot
    assert credchain.get_credentials() is second
    assert credchain.get_credentials() is second
    assert fetch.profiles == [None, None]
    assert credchain.get_credentials("alpha") is second
    assert fetch.profiles == [None, None, "alpha"]


def test_cache_not_reused_within_one_second_of_expiry(monkeypatch: pytest.MonkeyPatch, fake_library: ctypes.c_uint64) -> None:
    soon = make(datetime.datetime.fromtimestamp(time.time() + 0.9, tz=UTC))
    fetch = FakeFetch([soon])
    use_fetch(monkeypatch, fetch)
    credchain.get_credentials()
    credchain.get_credentials()
    credchain.get_credentials()
    assert fetch.profiles == [None, None, None]


def test_cache_not_reused_past_the_librarys_reuse_until(monkeypatch: pytest.MonkeyPatch, fake_library: ctypes.c_uint64) -> None:
    start = time.time()
    later = make(datetime.datetime.fromtimestamp(start + 3600, tz=UTC))
    fetch = FakeFetch([later])
    use_fetch(monkeypatch, fetch, reuse_until=int(start) + 3000)
    monkeypatch.setattr(_api, "_now", lambda: start + 2990)
    credchain.get_credentials()
    credchain.get_credentials()
    assert fetch.profiles == [None]
    monkeypatch.setattr(_api, "_now", lambda: start + 3001)  # in the mandatory window: ask the library
    credchain.get_credentials()
    assert fetch.profiles == [None, None]


def test_cache_reused_up_to_one_second_before_expiry(monkeypatch: pytest.MonkeyPatch, fake_library: ctypes.c_uint64) -> None:
    start = time.time()
    later = make(datetime.datetime.fromtimestamp(start + 5, tz=UTC))
    fetch = FakeFetch([later])
    use_fetch(monkeypatch, fetch)
    monkeypatch.setattr(_api, "_now", lambda: start + 3.5)  # 1.5 s left
    credchain.get_credentials()
    credchain.get_credentials()
    assert fetch.profiles == [None]
    monkeypatch.setattr(_api, "_now", lambda: start + 4.2)  # 0.8 s left
    credchain.get_credentials()
    assert fetch.profiles == [None, None]


def test_never_expiring_credentials_are_reused(monkeypatch: pytest.MonkeyPatch, fake_library: ctypes.c_uint64) -> None:
    static = make(None, token=None)
    fetch = FakeFetch([static])
    use_fetch(monkeypatch, fetch)
    for _ in range(100):
        assert credchain.get_credentials() is static
    assert fetch.profiles == [None]


def test_errors_are_not_cached(monkeypatch: pytest.MonkeyPatch, fake_library: ctypes.c_uint64) -> None:
    calls: List[Optional[str]] = []

    def failing(profile: Optional[str]) -> Credentials:
        calls.append(profile)
        raise credchain.NoCredentialsError("nothing")

    monkeypatch.setattr(_api, "fetch_with_reuse", failing)
    for _ in range(3):
        with pytest.raises(credchain.NoCredentialsError):
            credchain.get_credentials()
    assert calls == [None, None, None]
