"""``python -m credchain ARGS``: the same as the ``credchain`` command."""

from ._cli import main

if __name__ == "__main__":
    main()
