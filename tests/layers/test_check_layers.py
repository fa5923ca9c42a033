"""scripts/check-layers against small crates written here: it must pass a
one-way tree and name every upward dependency and every cycle."""
import importlib.machinery
import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_checker():
    loader = importlib.machinery.SourceFileLoader("check_layers", str(ROOT / "scripts" / "check-layers"))
    spec = importlib.util.spec_from_loader("check_layers", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


checker = load_checker()


def write_crate(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


ONE_WAY = {
    "lib.rs": "mod types;\nmod chain;\nmod cache;\n",
    "types/mod.rs": "pub mod error;\n",
    "types/error.rs": "pub struct Error;\n",
    "chain/mod.rs": "use crate::types::error::Error;\npub fn resolve() -> Option<Error> { None }\n",
    "cache/mod.rs": "mod entry;\nmod state;\nuse crate::chain;\n",
    "cache/entry.rs": "use super::state::State;\nfn f(_: crate::chain::Thing) {}\n",
    "cache/state.rs": "use crate::types::{error::Error};\npub struct State;\n",
}


def test_the_repository_itself_passes():
    _, edges, problems = checker.check(str(ROOT / "core"))
    assert problems == []
    assert len(edges) > 100


def test_a_one_way_crate_passes(tmp_path):
    _, edges, problems = checker.check(str(write_crate(tmp_path, ONE_WAY)))
    assert problems == []
    assert (("cache", "entry"), ("cache", "state")) in edges
    assert (("cache", "state"), ("types", "error")) in edges


def test_a_lower_layer_reaching_up_is_named(tmp_path):
    files = dict(ONE_WAY)
    files["chain/mod.rs"] = "use crate::cache::Cache;\n"
    _, _, problems = checker.check(str(write_crate(tmp_path, files)))
    assert "chain -> cache: layer chain reaches up to layer cache" in problems
    assert "cycle: cache <-> chain" in problems


def test_a_cycle_between_sibling_files_is_named(tmp_path):
    files = dict(ONE_WAY)
    files["cache/state.rs"] = "use super::entry::Entry;\n"
    _, _, problems = checker.check(str(write_crate(tmp_path, files)))
    assert problems == ["cycle: cache::entry <-> cache::state"]


def test_brace_groups_aliases_and_paths_in_code_count(tmp_path):
    files = dict(ONE_WAY)
    files["types/error.rs"] = (
        "use crate::{chain::{self as c}};\n"
        "// crate::cache in a comment does not count\n"
        'const S: &str = "crate::cache";\n'
        "fn f() { crate::chain::resolve(); }\n"
    )
    _, edges, problems = checker.check(str(write_crate(tmp_path, files)))
    assert (("types", "error"), ("chain",)) in edges
    assert not any(b == ("cache",) for a, b in edges if a == ("types", "error"))
    assert "types::error -> chain: layer types reaches up to layer chain" in problems


def test_unit_test_modules_are_not_dependencies(tmp_path):
    files = dict(ONE_WAY)
    files["types/error.rs"] = "pub struct Error;\n#[cfg(test)]\nmod tests {\n    use crate::cache;\n}\n"
    _, _, problems = checker.check(str(write_crate(tmp_path, files)))
    assert problems == []


def test_a_folder_outside_every_layer_is_refused(tmp_path):
    files = dict(ONE_WAY)
    files["misc/mod.rs"] = "pub fn helper() {}\n"
    _, _, problems = checker.check(str(write_crate(tmp_path, files)))
    assert problems == ["src/misc: not in any layer (add it to LAYERS in scripts/check-layers)"]


def test_os_calls_outside_the_platform_layer_are_named(tmp_path):
    (tmp_path / "core" / "src" / "platform").mkdir(parents=True)
    (tmp_path / "core" / "src" / "platform" / "unix.rs").write_text("pub fn pid() -> i32 { unsafe { libc::getpid() } }\n")
    (tmp_path / "core" / "src" / "cache.rs").write_text("// libc:: in a comment is fine\nuse std::os::unix::fs::MetadataExt;\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text('#[cfg(target_os = "linux")]\nfn f() {}\n')
    (tmp_path / "command" / "src").mkdir(parents=True)
    (tmp_path / "command" / "src" / "main.rs").write_text('fn main() { println!("libc::getpid"); }\n')
    assert checker.os_specific_outside_platform(str(tmp_path)) == [
        "core/src/cache.rs:2: OS-specific code outside core/src/platform/",
        "src/lib.rs:1: OS-specific code outside core/src/platform/",
    ]


def test_the_repository_calls_the_os_only_from_its_platform_layer():
    assert checker.os_specific_outside_platform(str(ROOT)) == []


def public_functions_taking_raw_pointers(crate_src):
    """`pub fn` signatures (not `pub(crate)`/`pub(super)`) with a raw pointer."""
    found = []
    signature = re.compile(r"\bpub\s+(?:const\s+)?(?:unsafe\s+)?(?:extern\s+\"C\"\s+)?fn\s+(\w+)[^{;]*?\)", re.S)
    for path in sorted(pathlib.Path(crate_src).rglob("*.rs")):
        text = checker.strip_comments_and_strings(path.read_text())
        for match in signature.finditer(text):
            if "*const" in match.group(0) or "*mut" in match.group(0):
                found.append(f"{path.relative_to(crate_src)}: {match.group(1)}")
    return found


def test_the_core_crate_takes_no_raw_pointer_in_its_public_api():
    assert public_functions_taking_raw_pointers(ROOT / "core" / "src") == []


def test_a_public_function_taking_a_raw_pointer_is_named(tmp_path):
    (tmp_path / "lib.rs").write_text(
        "pub fn safe(x: &str) {}\npub(crate) fn inner(p: *const u8) {}\npub fn leak(\n    out: *mut u8,\n) {}\n")
    assert public_functions_taking_raw_pointers(tmp_path) == ["lib.rs: leak"]
