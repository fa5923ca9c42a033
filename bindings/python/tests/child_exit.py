"""Child: exit while a daemon thread keeps calling the library with logging on.

The library logs on the calling thread and on its runtime thread; the
interpreter must still exit cleanly (exit status 0, no abort).
"""

from __future__ import annotations

import json
import logging
import os
import threading

logging.basicConfig(level=5, stream=open(os.devnull, "w"))

import credchain  # noqa: E402

credchain.get_credentials()


def hammer() -> None:
    for _ in range(100000):
        credchain.invalidate()
        credchain.get_credentials()


threading.Thread(target=hammer, daemon=True).start()
print(json.dumps({"started": True}))
