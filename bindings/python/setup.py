"""What goes into the credchain wheel besides the Python sources.

The package carries two files built from the Rust crate:

* ``credchain/libcredchain.abi3.so``: the cdylib with the C ABI that
  ``credchain/_ffi.py`` loads with ctypes (not a Python extension module: it
  does not link against Python, so one ``cp39-abi3`` wheel serves every
  CPython >= 3.9);
* ``credchain/_bin/credchain``: the ``credchain`` command, which the console
  script ``credchain`` and ``python -m credchain`` run (``credchain/_cli.py``).

They come from one of two places:

* **from source** (``pip install ./bindings/python`` in the repository, or
  ``pip install credchain-X.tar.gz``): setuptools-rust runs cargo on the crate,
  which is ``../../Cargo.toml`` in the repository and ``rust/Cargo.toml`` in
  the sdist that ``scripts/build-wheel`` writes. It needs cargo on PATH.
* **prebuilt** (``scripts/build-wheel``): ``CREDCHAIN_PREBUILT_DIR`` names a
  directory holding ``libcredchain.so`` and ``credchain`` built elsewhere (for
  glibc 2.17 with cargo-zigbuild); they are copied in unchanged and cargo is
  not run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

PREBUILT_ENV = "CREDCHAIN_PREBUILT_DIR"
HERE = Path(__file__).resolve().parent
# Where each artefact goes inside the package (_ffi.py globs libcredchain*.so;
# _cli.py runs _bin/credchain).
LIBRARY_IN_PACKAGE = Path("credchain") / "libcredchain.abi3.so"
BINARY_IN_PACKAGE = Path("credchain") / "_bin" / "credchain"


class BinaryDistribution(Distribution):
    """A platform wheel even though setuptools builds no extension itself."""

    def has_ext_modules(self) -> bool:
        return True


def prebuilt_build_py(prebuilt: Path) -> type:
    artefacts = {LIBRARY_IN_PACKAGE: prebuilt / "libcredchain.so", BINARY_IN_PACKAGE: prebuilt / "credchain"}
    missing = [str(source) for source in artefacts.values() if not source.is_file()]
    if missing:
        raise SystemExit(f"{PREBUILT_ENV}={prebuilt}: missing {', '.join(missing)}")

    class BuildPyWithPrebuilt(build_py):
        def run(self) -> None:
            super().run()
            for inside, source in artefacts.items():
                target = Path(self.build_lib) / inside
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                target.chmod(0o755)

    return BuildPyWithPrebuilt


def rust_extensions() -> list:
    from setuptools_rust import Binding, RustExtension

    # Relative to this folder, where pip runs the build.
    workspace = "rust" if (HERE / "rust" / "Cargo.toml").is_file() else "../.."
    return [
        RustExtension("credchain.libcredchain", path=f"{workspace}/Cargo.toml", binding=Binding.NoBinding,
                      py_limited_api=True, cargo_manifest_args=["--locked"]),
        RustExtension({"credchain": "credchain._bin.credchain"}, path=f"{workspace}/command/Cargo.toml",
                      binding=Binding.Exec,
                      args=["--bin", "credchain"], cargo_manifest_args=["--locked"]),
    ]


# The library does not link against Python at all, so one wheel serves every
# CPython >= 3.9 on a platform.
options = {"bdist_wheel": {"py_limited_api": "cp39"}}
prebuilt_dir = os.environ.get(PREBUILT_ENV)
if prebuilt_dir:
    setup(distclass=BinaryDistribution, cmdclass={"build_py": prebuilt_build_py(Path(prebuilt_dir).resolve())},
          options=options)
else:
    setup(rust_extensions=rust_extensions(), options=options)
