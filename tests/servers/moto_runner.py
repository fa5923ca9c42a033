"""Run moto's server on a free loopback port, with request counting.

Usage: ``python3 moto_runner.py [--port 0] [--imds-ttl-header]``. Prints one
JSON line ``{"server": "moto", "url": ..., "port": ...}`` once it listens,
then serves until killed.

moto's app is wrapped in a small WSGI middleware that counts requests per
(method, path) and answers the same ``/__control`` endpoint as the other
loopback servers (``GET``: stats; ``POST {"op": "reset"}``;
``POST {"op": "configure", "settings": {"imds_ttl_header": true}}``).

``imds_ttl_header``: moto's IMDS answers ``PUT /latest/api/token`` without
the ``x-aws-ec2-metadata-token-ttl-seconds`` header that EC2 always sends
(and that aws-config requires); with this set the middleware adds it, echoing
the requested TTL, so moto's IMDS can also be used as a faithful peer.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading

CONTROL_PATH = "/__control"
TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"


class Middleware:
    def __init__(self, app, imds_ttl_header: bool = False) -> None:
        self.app = app
        self.imds_ttl_header = imds_ttl_header
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def _json(self, start_response, status: str, obj) -> list[bytes]:
        body = json.dumps(obj).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == CONTROL_PATH:
            if method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                cmd = json.loads(environ["wsgi.input"].read(length) or b"{}")
                if cmd.get("op") == "reset":
                    with self.lock:
                        self.counts.clear()
                elif cmd.get("op") == "configure":
                    settings = cmd.get("settings", {})
                    if "imds_ttl_header" in settings:
                        self.imds_ttl_header = bool(settings["imds_ttl_header"])
            with self.lock:
                counts = dict(self.counts)
            return self._json(start_response, "200 OK",
                              {"server": "moto", "counts": counts, "imds_ttl_header": self.imds_ttl_header})
        with self.lock:
            key = f"{method} {path}"
            self.counts[key] = self.counts.get(key, 0) + 1
        if self.imds_ttl_header and path == "/latest/api/token":
            ttl = environ.get("HTTP_" + TTL_HEADER.upper().replace("-", "_"), "21600")

            def start_with_ttl(status, headers, exc_info=None):
                return start_response(status, list(headers) + [(TTL_HEADER, ttl)], exc_info)

            return self.app(environ, start_with_ttl)
        return self.app(environ, start_response)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--imds-ttl-header", action="store_true")
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = Middleware(DomainDispatcherApplication(create_backend_app), imds_ttl_header=args.imds_ttl_header)
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    port = server.server_port
    print(json.dumps({"server": "moto", "url": f"http://127.0.0.1:{port}", "port": port}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
