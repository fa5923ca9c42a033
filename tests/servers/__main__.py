"""Run one loopback server standalone.

    cd tests && python3 -m servers imds --port 0 --set lifetime=15 --set rotate=expiry
    cd tests && python3 -m servers moto [--imds-ttl-header]

Prints one JSON line ``{"server": ..., "url": ..., "port": ...}`` once
listening, then serves until SIGINT/SIGTERM. Control it through
``POST /__control`` (see base.py) or ``servers.ControlClient(url)``.
Setting values are parsed as JSON when they parse (numbers, true/false,
null), else taken as strings.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from . import SERVERS


def _value(raw: str):
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "moto":
        from .moto_runner import main as moto_main
        moto_main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(prog="python3 -m servers")
    parser.add_argument("kind", choices=sorted(SERVERS) + ["moto"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    settings = {k: _value(v) for k, v in (s.split("=", 1) for s in args.set)}
    server = SERVERS[args.kind](host=args.host, port=args.port, verbose=args.verbose, **settings).start()
    print(json.dumps({"server": server.name, "url": server.url, "port": server.port}), flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
