"""Lines the tests/postgres suite prints in pytest's terminal summary (``-q`` still shows them).

``conftest.py`` prints them after the server's start-up line; the driver test
(``test_drivers.py``) adds one line per driver path.
"""

from __future__ import annotations

lines: list[str] = []
