"""The lab's HTTP side: a WSGI app that runs the lab's request hooks, then moto's dispatcher.

:class:`LabRequest` is a request as the hooks see it (method, path, headers, the body already
read, and who signed it). A hook returns ``None`` to pass the request on, or a werkzeug
``Response`` to answer it itself (the JWKS endpoints, IAM enforcement for identity-pool
credentials). :func:`make_lab_server` binds the server to 127.0.0.1.
"""
from __future__ import annotations

import io
import socket
from typing import Any, Callable
from urllib.parse import parse_qs

__all__ = ["LabRequest", "RequestHook", "LabWSGI", "make_lab_server"]


class LabRequest:
    """A request as the lab's hooks see it: WSGI environ plus the already-read body."""

    def __init__(self, environ: dict, body: bytes) -> None:
        self.environ = environ
        self.body = body
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = environ.get("PATH_INFO", "")
        self.headers = {k[5:].replace("_", "-").lower(): v
                        for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            self.headers["content-type"] = environ["CONTENT_TYPE"]

    @property
    def target(self) -> str:
        """The X-Amz-Target header of JSON protocol calls, e.g. ``AWSCognitoIdentityProviderService.InitiateAuth``."""
        return self.headers.get("x-amz-target", "")

    @property
    def credential_scope(self) -> tuple[str | None, str | None]:
        """(access key id, signing service) of a signed request, else ``(None, None)``.

        SigV4 in the Authorization header (``Credential=AKID/date/region/service/aws4_request``) or
        in the query string of a presigned URL (``X-Amz-Credential``), or S3's SigV2
        (``AWS AKID:signature`` / ``?AWSAccessKeyId=``).
        """
        auth = self.headers.get("authorization", "")
        scope = None
        if "Credential=" in auth:
            scope = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
        elif auth.startswith("AWS "):
            return auth[4:].split(":", 1)[0].strip(), "s3"
        else:
            query = parse_qs(self.environ.get("QUERY_STRING", ""))
            if query.get("X-Amz-Credential"):
                scope = query["X-Amz-Credential"][0]
            elif query.get("AWSAccessKeyId"):
                return query["AWSAccessKeyId"][0], "s3"
        if not scope:
            return None, None
        parts = scope.split("/")
        return parts[0], (parts[3].lower() if len(parts) >= 5 else None)

    @property
    def access_key_id(self) -> str | None:
        """The access key id the request was signed with, if any."""
        return self.credential_scope[0]


RequestHook = Callable[[LabRequest], Any]


class LabWSGI:
    """Runs ``hooks()`` in order, then moto's own dispatcher."""

    def __init__(self, hooks: Callable[[], list[RequestHook]]) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.hooks = hooks
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        request = LabRequest(environ, body)
        for hook in list(self.hooks()):
            response = hook(request)
            if response is not None:   # a werkzeug Response: the hook answered the request
                return response(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        return self.moto(environ, start_response)


def _quiet_handler_class():
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietRequestHandler(MotoRequestHandler):
        """No access log: it would spill into notebook outputs."""

        def log_request(self, *args, **kwargs) -> None:
            pass

        def log_error(self, *args, **kwargs) -> None:
            pass

    return QuietRequestHandler


def make_lab_server(port: int, hooks: Callable[[], list[RequestHook]], ssl_context=None):
    """A threaded werkzeug server on 127.0.0.1:``port`` (0: any free port), not yet serving;
    HTTPS when ``ssl_context`` is given (see :mod:`labkit.emulator.tls`).

    The socket is bound here, not by werkzeug: werkzeug answers a taken port by printing to stderr
    and calling ``sys.exit(1)``. Here the bind's ``OSError`` (``errno.EADDRINUSE`` for a taken
    port) reaches the caller, which can say what to do.
    """
    from werkzeug.serving import ThreadedWSGIServer, make_server

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as werkzeug's own bind does
        sock.bind(("127.0.0.1", port))
        sock.listen(ThreadedWSGIServer.request_queue_size)
        # werkzeug serves a duplicate of the descriptor; ours is closed below either way.
        server = make_server("127.0.0.1", port, LabWSGI(hooks), threaded=True,
                             request_handler=_quiet_handler_class(), fd=sock.fileno(),
                             ssl_context=ssl_context)
    finally:
        sock.close()
    # What HTTPServer.server_bind would have set (without its reverse DNS look-up of the host).
    server.server_name, server.server_port = "127.0.0.1", server.port
    return server
