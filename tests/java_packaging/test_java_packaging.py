"""The Java binding's jar cannot be incomplete (bindings/java/pom.xml).

* `mvn package` with the Rust build skipped and no libcredchain.so where the
  build looks fails, naming the file it expected and how to build it.
* `mvn install` (run by scripts/test-all's java suite before this) put
  dev.credchain:credchain with its sources and javadoc jars in the local
  repository, the jar holding the native library.
* bindings/java/consumer, a separate Maven project, depends on it by
  coordinates and gets the exact keys of a HOME holding only static keys,
  through the library bundled in the installed jar (its test runs the
  application in a child JVM with only PATH, HOME and
  AWS_EC2_METADATA_DISABLED=true: nothing leaves loopback).

Nothing here touches target/release/libcredchain.so.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
JAVA = ROOT / "bindings" / "java"
CONSUMER = JAVA / "consumer"
NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def version() -> str:
    v = ET.parse(JAVA / "pom.xml").getroot().find("m:version", NS)
    assert v is not None and v.text
    return v.text.strip()


def local_repository() -> Path:
    return Path(os.environ.get("CREDCHAIN_M2_REPO", Path.home() / ".m2" / "repository"))


def mvn(*args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("CREDCHAIN_LIBRARY", None)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return subprocess.run(
        ["mvn", "-B", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_package_without_the_native_library_fails_naming_it(tmp_path: Path) -> None:
    empty = tmp_path / "no-native-library"
    empty.mkdir()
    jar = JAVA / "target" / f"credchain-{version()}.jar"
    before = jar.stat().st_mtime_ns if jar.exists() else None
    r = mvn(
        "-q", "-f", str(JAVA), "package",
        "-Dcredchain.skipCargo=true", f"-Dcredchain.native.dir={empty}",
        timeout=300,
    )
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    expected = empty / "libcredchain.so"
    assert f"The native library {expected} is missing" in out, out
    assert "cargo build --release" in out and str(ROOT) in out, out
    assert "exec-maven-plugin" in out and "native-library-built" in out, out
    # It stopped before writing anything: the jar (if any) is the one that was there.
    assert (jar.stat().st_mtime_ns if jar.exists() else None) == before


def test_install_put_the_jar_with_its_library_sources_and_javadoc() -> None:
    v = version()
    d = local_repository() / "dev" / "credchain" / "credchain" / v
    main, sources, javadoc = (d / f"credchain-{v}{c}.jar" for c in ("", "-sources", "-javadoc"))
    for f in (main, sources, javadoc, d / f"credchain-{v}.pom"):
        assert f.is_file(), f"{f} is missing: run `mvn -B -f bindings/java install` first"
    built = JAVA / "target" / main.name
    assert built.is_file() and built.read_bytes() == main.read_bytes(), (
        f"{main} is not the jar in {built}: run `mvn -B -f bindings/java install`"
    )
    with zipfile.ZipFile(main) as z:
        lib = z.read("linux-x86-64/libcredchain.so")
        assert lib[:4] == b"\x7fELF" and len(lib) > 1_000_000
        assert "dev/credchain/CredChain.class" in z.namelist()
    with zipfile.ZipFile(sources) as z:
        names = z.namelist()
        assert "dev/credchain/CredChain.java" in names
        assert "dev/credchain/jdbc/CredChainJdbc.java" in names
        assert not any(n.endswith(".class") or n.endswith(".so") for n in names)
    with zipfile.ZipFile(javadoc) as z:
        names = z.namelist()
        assert "index.html" in names
        assert "dev/credchain/CredChain.html" in names
        assert "dev/credchain/CredChainException.Code.html" in names
    print(
        f"\nmain {main.stat().st_size} B, sources {sources.stat().st_size} B, "
        f"javadoc {javadoc.stat().st_size} B"
    )


def test_a_consumer_project_gets_the_keys_of_its_home_through_the_installed_jar() -> None:
    r = mvn("-f", str(CONSUMER), f"-Dcredchain.version={version()}", "verify")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-20000:]
    assert "Tests run: 1, Failures: 0, Errors: 0, Skipped: 0" in out, out[-20000:]
    assert "source=shared-credentials-file" in out, out[-20000:]
