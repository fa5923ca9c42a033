"""What `scripts/build-release OUTDIR` writes, as a whole: exactly the
wheel, the sdist, the release tarball, the three jars and SHA256SUMS, which
checks; one library everywhere (the jar's, the wheel's and the tarball's
are the same file); and the jar as a Java application uses it: a program
compiled against it alone, run with it and JNA on the class path, gets the
keys of a test HOME through the library inside the jar."""

from __future__ import annotations

import os
import subprocess
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from release_build import JARS, LIBRARY_FILE, ROOT, SDIST, TARBALL, TARBALL_TOP, WHEEL, Release, assert_glibc_floor, say, \
    static_home

JAVA_SKIPPED = bool(os.environ.get("SKIP_JAVA"))
needs_java = pytest.mark.skipif(JAVA_SKIPPED, reason="SKIP_JAVA: build-release left the jars out")
JAR_LIBRARY = "linux-x86-64/libcredchain.so"
CONSUMER_MAIN = ROOT / "bindings" / "java" / "consumer" / "src" / "main" / "java" / "dev" / "credchain" / \
    "consumer" / "Main.java"
KEY_ID = "AKIDJARSTATIC"


def test_outdir_holds_what_is_shipped_and_its_checksums(release: Release, capsys: pytest.CaptureFixture[str]) -> None:
    shipped = [WHEEL, SDIST, TARBALL] + ([] if JAVA_SKIPPED else JARS)
    assert sorted(p.name for p in release.out.iterdir()) == sorted(shipped + ["SHA256SUMS"])
    sums = (release.out / "SHA256SUMS").read_text().splitlines()
    assert sorted(line.split("  ", 1)[1] for line in sums) == sorted(shipped)
    check = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=release.out,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    say(capsys, f"scripts/build-release: {release.seconds:.0f} s; "
                + ", ".join(f"{name} {(release.out / name).stat().st_size / 1e6:.2f} MB" for name in shipped))


def library_in_tarball(release: Release) -> bytes:
    with tarfile.open(release.tarball) as tar:
        member = tar.extractfile(f"{TARBALL_TOP}/lib/{LIBRARY_FILE}")
        assert member is not None
        return member.read()


def test_the_wheel_and_the_tarball_ship_one_library(release: Release) -> None:
    with zipfile.ZipFile(release.wheel) as wheel:
        assert wheel.read("credchain/libcredchain.abi3.so") == library_in_tarball(release)


@needs_java
def test_the_jar_ships_the_same_library(release: Release, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with zipfile.ZipFile(release.jar) as jar:
        library = jar.read(JAR_LIBRARY)
    assert library == library_in_tarball(release)
    (tmp_path / "libcredchain.so").write_bytes(library)
    assert_glibc_floor(tmp_path / "libcredchain.so", capsys, f"jar: {JAR_LIBRARY}")


@needs_java
def test_sources_and_javadoc_jars(release: Release) -> None:
    sources, javadoc = (release.out / name for name in JARS[1:])
    with zipfile.ZipFile(sources) as z:
        assert "dev/credchain/CredChain.java" in z.namelist()
        assert not [n for n in z.namelist() if n.endswith((".class", ".so"))]
    with zipfile.ZipFile(javadoc) as z:
        assert {"index.html", "dev/credchain/CredChain.html"} <= set(z.namelist())


def jna_jar() -> Path:
    pom = ET.parse(ROOT / "bindings" / "java" / "pom.xml").getroot()
    version = pom.find("m:properties/m:jna.version", {"m": "http://maven.apache.org/POM/4.0.0"})
    assert version is not None and version.text
    repository = Path(os.environ.get("CREDCHAIN_M2_REPO", Path.home() / ".m2" / "repository"))
    jar = repository / "net" / "java" / "dev" / "jna" / "jna" / version.text / f"jna-{version.text}.jar"
    assert jar.is_file(), f"{jar} is missing (Maven fetches it when it builds the jar)"
    return jar


@needs_java
def test_a_java_program_gets_keys_through_the_jars_library(release: Release, tmp_path: Path) -> None:
    classes = tmp_path / "classes"
    compiled = subprocess.run(["javac", "-d", str(classes), "-cp", str(release.jar), str(CONSUMER_MAIN)],
                              capture_output=True, text=True, timeout=300)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    home = static_home(tmp_path / "home", KEY_ID, "jar-secret")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true"}
    class_path = os.pathsep.join([str(classes), str(release.jar), str(jna_jar())])
    ran = subprocess.run(["java", f"-Djava.io.tmpdir={tmp_path}", "-cp", class_path, "dev.credchain.consumer.Main"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    values = dict(line.split("=", 1) for line in ran.stdout.splitlines() if "=" in line)
    assert (values["access_key_id"], values["source"]) == (KEY_ID, "shared-credentials-file"), ran.stdout
    assert values["library"].startswith(f"jar resource {JAR_LIBRARY}"), ran.stdout
    assert Path(values["jar"]).resolve() == release.jar.resolve(), ran.stdout
