"""The lab's Python Lambda runtime: one execution environment, run as a script in its own process.

Started by :mod:`labkit.emulator.lambdas` as ``python -I _lambda_worker.py <task root> <handler>``
in a temporary directory holding the function's unzipped code. It imports nothing of labkit
(the handler sees a plain Python, like AWS Lambda's), then answers one invocation per line of
stdin with one JSON line on its own channel (a copy of the original stdout):

    request:  {"event": ..., "request_id": "...", "deadline": <epoch seconds>, "function": {...}}
    answer:   {"result": ...} or {"error": {"errorMessage", "errorType", "stackTrace"}},
              plus "logs": what the handler printed or logged during the invocation.

As on AWS Lambda, the module is imported once (the "init" phase, on the first invocation) and
its globals live on between invocations until the environment is replaced.
"""
import io
import json
import logging
import os
import socket
import sys
import time
import traceback

_LOCAL = {"127.0.0.1", "localhost", "::1", "", None}


def _guard_network() -> None:
    """A handler reaches the lab (127.0.0.1) and nothing else: never AWS, never the internet."""
    connect, connect_ex, getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def refuse(host, port):
        raise ConnectionRefusedError(
            f"The lab's Lambda runtime connects to the lab (127.0.0.1) only, not to {host}:{port}. A boto3 "
            "client made in the handler reaches the lab by itself (AWS_ENDPOINT_URL).")

    def host_port(address):
        if isinstance(address, tuple) and address:
            return address[0], (address[1] if len(address) > 1 else None)
        return None, None

    def guarded_connect(self, address):
        host, port = host_port(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOCAL:
            refuse(host, port)
        return connect(self, address)

    def guarded_connect_ex(self, address):
        host, port = host_port(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOCAL:
            refuse(host, port)
        return connect_ex(self, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in _LOCAL:
            refuse(name, args[0] if args else kwargs.get("port"))
        return getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = guarded_connect_ex
    socket.getaddrinfo = guarded_getaddrinfo


class _Capture(io.TextIOBase):
    """sys.stdout / sys.stderr of the handler: what CloudWatch Logs would receive."""

    def __init__(self) -> None:
        self.parts = []

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        self.parts.append(str(text))
        return len(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


class LambdaContext:
    """The ``context`` argument, with the attributes AWS Lambda's Python runtime gives it."""

    def __init__(self, request_id: str, deadline: float, function: dict) -> None:
        self.aws_request_id = request_id
        self.function_name = function["name"]
        self.function_version = function.get("version", "$LATEST")
        self.invoked_function_arn = function["arn"]
        self.memory_limit_in_mb = str(function.get("memory", 128))
        self.log_group_name = function["log_group"]
        self.log_stream_name = function["log_stream"]
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))

    def __repr__(self) -> str:
        return (f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
                f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb}])")


class _LambdaFormatter(logging.Formatter):
    """``[LEVEL]\\t<UTC time>Z\\t<request id>\\t<message>``, as the Python runtime formats log records."""

    request_id = ""

    def format(self, record) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        return f"[{record.levelname}]\t{stamp}\t{self.request_id}\t{message}"


class _CurrentStdout(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time of the record (the invocation's capture)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _error(exc: BaseException, error_type: str | None = None) -> dict:
    return {"errorMessage": str(exc), "errorType": error_type or type(exc).__name__,
            "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])}


def main() -> None:
    task_root, handler_spec = sys.argv[1], sys.argv[2]
    _guard_network()
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)                      # a stray write to file descriptor 1 must not break the channel
    requests = sys.stdin
    sys.stdin = open(os.devnull)
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    capture = _Capture()
    sys.stdout = sys.stderr = capture
    formatter = _LambdaFormatter()
    handler_log = _CurrentStdout()
    handler_log.setFormatter(formatter)
    logging.getLogger().addHandler(handler_log)    # the root logger stays at WARNING, as on Lambda

    handler = None
    module_name, _, function_name = handler_spec.rpartition(".")
    # The interpreter is up: say so, so that the lab starts the invocation's clock only now (AWS's
    # runtime process is already running when Lambda's timer starts; this one took the machine's time).
    channel.write(json.dumps({"ready": True}) + "\n")
    for line in requests:
        request = json.loads(line)
        formatter.request_id = request["request_id"]
        answer: dict = {}
        try:
            if handler is None:
                try:
                    module = __import__(module_name.replace("/", "."), fromlist=["_"])
                except Exception as exc:
                    raise _RuntimeError(f"Unable to import module '{module_name}': {exc}",
                                        "Runtime.ImportModuleError") from None
                handler = getattr(module, function_name, None)
                if not callable(handler):
                    handler = None
                    raise _RuntimeError(f"Handler '{function_name}' missing on module '{module_name}'",
                                        "Runtime.HandlerNotFound")
            context = LambdaContext(request["request_id"], request["deadline"], request["function"])
            result = handler(request["event"], context)
            try:
                answer["result"] = json.loads(json.dumps(result))
            except (TypeError, ValueError) as exc:
                answer["error"] = {"errorMessage": f"Unable to marshal response: {exc}",
                                   "errorType": "Runtime.MarshalError", "stackTrace": []}
        except _RuntimeError as exc:
            answer["error"] = {"errorMessage": str(exc), "errorType": exc.error_type, "stackTrace": []}
            print(f"[ERROR] {exc.error_type}: {exc}", file=capture)
        except Exception as exc:          # the handler raised: Lambda reports it as an Unhandled error
            answer["error"] = _error(exc)
            # as the runtime logs it: the handler's frames, not the runtime's own
            trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next)).rstrip()
            print(f"[ERROR] {type(exc).__name__}: {exc}\n{trace}", file=capture)
        except SystemExit as exc:
            answer["error"] = {"errorMessage": f"RequestId: {request['request_id']} Error: Runtime exited "
                                               f"with error: exit status {exc.code}",
                               "errorType": "Runtime.ExitError", "stackTrace": []}
            answer["logs"] = capture.take()
            channel.write(json.dumps(answer) + "\n")
            return
        answer["logs"] = capture.take()
        channel.write(json.dumps(answer) + "\n")


class _RuntimeError(Exception):
    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


if __name__ == "__main__":
    main()
