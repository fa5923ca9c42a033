"""Loopback credential servers for credchain's remote tests (Python stdlib only).

See base.py for the fault model and control API. Servers:

* ``ImdsServer``      IMDSv2 (token, role list, rotating role credentials)
* ``ContainerServer`` ECS / EKS Pod Identity container credentials endpoint
* ``StsServer``       STS AssumeRole / AssumeRoleWithWebIdentity (XML, SigV4 check)
* ``SsoServer``       IAM Identity Center portal GetRoleCredentials
* ``MotoServer``      moto's own server in a subprocess (STS, IMDS)

Standalone: ``cd tests && python3 -m servers imds --set lifetime=15``.
"""

from .base import ControlClient, Fault, KeyMinter, LoopbackServer, Request, Response, iso8601, secret_for, token_for
from .container import ContainerServer
from .imds import ImdsServer
from .moto_process import MotoServer
from .sso import SsoServer
from .sts import StsServer

SERVERS = {"imds": ImdsServer, "container": ContainerServer, "sts": StsServer, "sso": SsoServer}


def serve(cls, **kw):
    """A pytest fixture's body: one server of `cls` on loopback for the test, stopped after it
    (`yield from serve(StsServer)`)."""
    srv = cls(**kw).start()
    try:
        yield srv
    finally:
        srv.stop()

__all__ = [
    "ControlClient", "Fault", "KeyMinter", "LoopbackServer", "Request", "Response", "iso8601", "secret_for",
    "token_for", "ContainerServer", "ImdsServer", "MotoServer", "SsoServer", "StsServer", "SERVERS", "serve",
]
