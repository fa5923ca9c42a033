"""Start moto's server (``moto_runner.py``) as a subprocess on a free loopback port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from .base import ControlClient

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto_runner.py")


class MotoServer(ControlClient):
    """``with MotoServer() as moto: moto.url, moto.count("/latest/api/token")``."""

    name = "moto"

    def __init__(self, imds_ttl_header: bool = False, startup_timeout: float = 60.0) -> None:
        self.imds_ttl_header = imds_ttl_header
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        super().__init__("http://127.0.0.1:0")

    def start(self) -> "MotoServer":
        cmd = [sys.executable, RUNNER, "--port", "0"] + (["--imds-ttl-header"] if self.imds_ttl_header else [])
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(self.startup_timeout):
            self.stop()
            raise RuntimeError("moto server did not start in time")
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise RuntimeError(f"moto server exited with {code} before listening (is moto[server] installed?)")
        info = json.loads(line)
        self.port = info["port"]
        self.url = info["url"]
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> "MotoServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
