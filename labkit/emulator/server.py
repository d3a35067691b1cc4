"""The lab's HTTP side: a WSGI app that runs the lab's request hooks, then moto's dispatcher.

:class:`LabRequest` is a request as the hooks see it (method, path, headers, the body already
read, and who signed it). A hook returns ``None`` to pass the request on, or a werkzeug
``Response`` to answer it itself (the JWKS endpoints, IAM enforcement for identity-pool
credentials). :func:`make_lab_server` binds the server to 127.0.0.1.

Whatever a client sends, the answer is an HTTP response in AWS's JSON error shape
(``{"__type": ..., "message": ...}``), never werkzeug's HTML page with a traceback:

- a ``Content-Length`` that is not a non-negative integer: 400 at once, nothing read;
- a body over :data:`MAX_BODY_BYTES`: 413, nothing read;
- a JSON body nested deeper than :data:`MAX_JSON_DEPTH`: 400 ``SerializationException``;
- any exception the lab or moto did not expect: 500 ``InternalErrorException`` (the error type and
  status Cognito documents for its own internal errors); the traceback goes to the ``logging``
  logger ``labkit.emulator.server``, never into a notebook.

Errors moto raises itself (its ``JsonRESTError`` responses) pass through unchanged.
"""
from __future__ import annotations

import io
import json
import logging
import re
import socket
from typing import Any, Callable
from urllib.parse import parse_qs

__all__ = ["LabRequest", "RequestHook", "LabWSGI", "make_lab_server", "json_error",
           "MAX_BODY_BYTES", "MAX_JSON_DEPTH"]

#: The largest request body the lab reads (AWS does not document Cognito's limit).
MAX_BODY_BYTES = 1024 * 1024
#: The deepest nesting of arrays and objects a JSON body may have (no Cognito request needs 10).
MAX_JSON_DEPTH = 64

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())   # nothing on stderr (a notebook's output) unless the user asks

_CONTENT_LENGTH = re.compile(r"[0-9]+")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def json_error(error_type: str, message: str, status: int = 400):
    """A werkzeug Response in AWS's JSON error shape: ``{"__type": error_type, "message": message}``."""
    from werkzeug.wrappers import Response

    return Response(json.dumps({"__type": error_type, "message": message}), status=status,
                    headers={"x-amzn-ErrorType": error_type}, content_type="application/x-amz-json-1.1")


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if ``body``, read as JSON, nests arrays/objects more than ``limit`` deep.

    Brackets inside JSON strings do not count. Cheap: a body with at most ``limit`` opening
    brackets is never scanned.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        depth += 1 if byte in (0x5B, 0x7B) else -1
        if depth > limit:
            return True
    return False


class LabRequest:
    """A request as the lab's hooks see it: WSGI environ plus the already-read body.

    A hook may replace ``body``; moto then reads the new one.
    """

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
#: Called with each request before the hooks; returns None, or ``finish(status, body)`` to be called
#: with the answer once it is complete.
RequestObserver = Callable[[LabRequest], Any]


def _read_body(environ) -> "bytes | Any":
    """The request body, or the error Response for a bad Content-Length or an oversized body."""
    raw = environ.get("CONTENT_LENGTH")
    if raw is not None and raw.strip() != "":
        if not _CONTENT_LENGTH.fullmatch(raw.strip()):
            shown = raw.strip()[:40]
            return json_error("BadRequestException",
                              f"Content-Length must be a non-negative integer, not {shown!r}.")
        digits = raw.strip().lstrip("0")
        length = int(digits or "0") if len(digits) <= 18 else MAX_BODY_BYTES + 1   # int() of 5000 digits fails
        if length > MAX_BODY_BYTES:
            return json_error("RequestEntityTooLargeException",
                              f"The request body is larger than the lab accepts ({MAX_BODY_BYTES} "
                              "bytes, 1 MiB).", 413)
        return environ["wsgi.input"].read(length) if length else b""
    if environ.get("wsgi.input_terminated"):          # chunked: no Content-Length, read to the end
        body = environ["wsgi.input"].read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return json_error("RequestEntityTooLargeException",
                              f"The request body is larger than the lab accepts ({MAX_BODY_BYTES} "
                              "bytes, 1 MiB).", 413)
        return body
    return b""


def _is_json_api_call(environ) -> bool:
    """A call of an AWS JSON-protocol API (not, say, a JSON file uploaded to S3)."""
    return (bool(environ.get("HTTP_X_AMZ_TARGET"))
            or environ.get("CONTENT_TYPE", "").lower().startswith("application/x-amz-json"))


class LabWSGI:
    """Runs ``hooks()`` in order, then moto's own dispatcher; see the module doc for what it refuses."""

    def __init__(self, hooks: Callable[[], list[RequestHook]],
                 observers: Callable[[], list[RequestObserver]] | None = None) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.hooks = hooks
        self.observers = observers or (lambda: [])
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ, start_response):
        # The whole answer is computed (and any iterator drained) before anything is sent, so an
        # exception anywhere still becomes a JSON InternalErrorException instead of a broken reply.
        sent: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            sent["status"], sent["headers"] = status, headers
            return sent.setdefault("written", []).append

        try:
            result = self._answer(environ, capture)
            try:
                body = b"".join(sent.get("written", [])) + b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            if "status" not in sent:
                raise RuntimeError("the application returned without calling start_response")
        except Exception:
            log.exception("The lab failed on %s %s (X-Amz-Target: %s)", environ.get("REQUEST_METHOD"),
                          environ.get("PATH_INFO"), environ.get("HTTP_X_AMZ_TARGET", "-"))
            sent = {}
            result = json_error("InternalErrorException",
                                "The lab hit an internal error: a bug in the lab, not in your request. "
                                "The details are in the lab's log (logging, logger 'labkit.emulator.server').",
                                500)(environ, capture)
            body = b"".join(result)
        for finish in environ.get("labkit.finishers", ()):
            try:
                finish(int(str(sent["status"]).split()[0]), body)
            except Exception:      # a broken observer must not break the answer
                log.exception("A request observer failed on %s %s", environ.get("REQUEST_METHOD"),
                              environ.get("PATH_INFO"))
        start_response(sent["status"], sent["headers"])
        return [body]

    def _answer(self, environ, start_response):
        body = _read_body(environ)
        if not isinstance(body, bytes):
            return body(environ, start_response)
        if _is_json_api_call(environ) and json_too_deep(body):
            return json_error("SerializationException",
                              f"The JSON body nests arrays and objects more than {MAX_JSON_DEPTH} deep.")(
                environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        request = LabRequest(environ, body)
        # Observers (lab.cloudtrail) see the request before any hook and the answer after everything.
        environ["labkit.finishers"] = [finish for observe in list(self.observers())
                                       if (finish := observe(request)) is not None]
        for hook in list(self.hooks()):
            response = hook(request)
            if response is not None:   # a werkzeug Response: the hook answered the request
                return response(environ, start_response)
        # A hook may have normalised the body (validation drops JSON nulls, as AWS reads them).
        environ["wsgi.input"] = io.BytesIO(request.body)
        environ["CONTENT_LENGTH"] = str(len(request.body))
        try:
            return self.moto(environ, start_response)
        except NotImplementedError:
            # An action moto lacks: say so in AWS's error shape instead of a 500.
            action = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2] or "this action"
            return json_error("UnsupportedOperationException",
                              f"The lab does not implement {action[:64]} (moto lacks it). See README: "
                              "where the lab differs from AWS.")(environ, start_response)


def _quiet_handler_class():
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietRequestHandler(MotoRequestHandler):
        """No access log: it would spill into notebook outputs."""

        def log_request(self, *args, **kwargs) -> None:
            pass

        def log_error(self, *args, **kwargs) -> None:
            pass

    return QuietRequestHandler


def make_lab_server(port: int, hooks: Callable[[], list[RequestHook]], ssl_context=None,
                    observers: Callable[[], list[RequestObserver]] | None = None):
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
        server = make_server("127.0.0.1", port, LabWSGI(hooks, observers), threaded=True,
                             request_handler=_quiet_handler_class(), fd=sock.fileno(),
                             ssl_context=ssl_context)
    finally:
        sock.close()
    # What HTTPServer.server_bind would have set (without its reverse DNS look-up of the host).
    server.server_name, server.server_port = "127.0.0.1", server.port
    return server
