"""The ``credchain`` command of an installed package.

The console script ``credchain`` and ``python -m credchain`` replace the
Python process with the command-line program bundled in the package
(``credchain/_bin/credchain``, built from the same crate as the library):
its arguments, standard streams, signals and exit status are the program's
own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

#: Exit status when the package has no runnable program (as a shell's
#: "command not found").
EXIT_NO_PROGRAM = 127


def program_path() -> Path:
    """Where the bundled ``credchain`` program is (or would be)."""
    return Path(__file__).resolve().parent / "_bin" / "credchain"


def main() -> NoReturn:
    program = program_path()
    if not os.access(program, os.X_OK):
        sys.stderr.write(
            f"credchain: this installation of the Python package has no credchain program "
            f"({program} is missing or not executable); install the package from a wheel, "
            f"or build it from source with cargo on PATH\n"
        )
        sys.exit(EXIT_NO_PROGRAM)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(program, ["credchain", *sys.argv[1:]])
