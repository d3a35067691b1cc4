"""Running Lambda functions the lab stores: Python handlers from their zip, in a subprocess, no Docker.

moto keeps the functions (CreateFunction, UpdateFunctionCode, …) but would run them in Docker. The
lab runs a Python function's handler itself, the way AWS Lambda's Python runtime does:

- the zip is unpacked into a temporary directory of its own (the function's ``LAMBDA_TASK_ROOT``)
  and the handler (``Handler="index.handler"``) imported from there by a separate Python process,
  with an environment like Lambda's (``AWS_REGION``, ``AWS_LAMBDA_FUNCTION_NAME``, ``_HANDLER``,
  the function's ``Environment.Variables``…), fake credentials, and ``AWS_ENDPOINT_URL`` pointing
  at the lab: boto3 inside a handler reaches the lab's DynamoDB or user pools, never AWS;
- that process is an *execution environment*: the module is imported once and its globals survive
  between invocations, until the code or configuration changes, the function times out or the lab
  stops (AWS Lambda reuses environments the same way, without promising to);
- ``print`` and ``logging`` output lands in the function's log (``START`` / ``END`` / ``REPORT``
  lines around each invocation), kept by :class:`FunctionLogs` and copied to the lab's CloudWatch
  Logs group ``/aws/lambda/<name>``;
- runtimes other than ``python3.x`` are refused with a clear message.

:func:`lambda_zip` builds a deployment package from source text or a Python function (for notebooks).
"""
from __future__ import annotations

import inspect
import io
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

__all__ = ["LambdaRunner", "Invocation", "FunctionLogs", "LogLine", "UnsupportedRuntime", "lambda_zip",
           "WORKER_SCRIPT", "check_runtime"]

WORKER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_lambda_worker.py")
#: How long a new worker process may take to start Python before the invocation fails (AWS Lambda's
#: own limit on the init phase is 10 seconds).
STARTUP_LIMIT = 10.0
#: The access key a function's boto3 signs with inside the lab (moto accepts any; AWS would not).
FUNCTION_ACCESS_KEY_ID = "ASIALABKITLAMBDA0000"
FUNCTION_SECRET_ACCESS_KEY = "labkit-lambda-execution-role-not-a-real-key"


class UnsupportedRuntime(ValueError):
    """The lab runs Python functions only."""


def check_runtime(runtime: str | None) -> None:
    """Refuse, in plain words, a runtime the lab cannot run (anything but python3.x)."""
    if isinstance(runtime, str) and runtime.startswith("python3"):
        return
    raise UnsupportedRuntime(
        f"The lab runs Lambda functions written in Python only (Runtime='python3.x'); {runtime!r} cannot "
        "run here. On AWS this runtime works; in the lab, write the handler in Python.")


@dataclass(frozen=True)
class LogLine:
    """One line of a function's log, as CloudWatch Logs holds it (timestamp in epoch milliseconds)."""

    timestamp: int
    message: str
    log_stream: str

    def __str__(self) -> str:
        return self.message


_RUNTIME_LINES = ("START RequestId: ", "END RequestId: ", "REPORT RequestId: ")


class FunctionLogs(list):
    """The log lines of one function, oldest first (``print(lab.lambda_logs("fn"))`` shows the text)."""

    def __init__(self, function_name: str, lines) -> None:
        super().__init__(lines)
        self.function_name = function_name

    @property
    def text(self) -> str:
        return "\n".join(line.message for line in self)

    @property
    def output(self) -> list[str]:
        """Only what the handler printed or logged: the START / END / REPORT lines (request ids,
        durations) left out, so a notebook can show it and get the same output every run."""
        return [line.message for line in self if not line.message.startswith(_RUNTIME_LINES)]

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<FunctionLogs /aws/lambda/{self.function_name}: {len(self)} line(s)>"


@dataclass
class Invocation:
    """What one run of a function gave: its result or its error, its log lines, how long it took."""

    function_name: str
    request_id: str
    result: Any = None
    error: dict | None = None          # {"errorMessage", "errorType", "stackTrace"} as Lambda reports it
    timed_out: bool = False
    duration_ms: float = 0.0
    cold_start: bool = False
    logs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        outcome = "timed out" if self.timed_out else ("ok" if self.ok else f"error {self.error.get('errorType')}")
        return (f"<Invocation {self.function_name} {self.request_id[:8]}: {outcome}, "
                f"{self.duration_ms:.1f} ms{' (cold start)' if self.cold_start else ''}>")


class _Environment:
    """One execution environment: the unpacked code and the Python process running it."""

    def __init__(self, runner: "LambdaRunner", fn, signature) -> None:
        self.signature = signature
        self.root = tempfile.mkdtemp(prefix=f"labkit-lambda-{fn.function_name[:40]}-")
        self.task_root = os.path.join(self.root, "task")
        with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
            _safe_extract(archive, self.task_root)
        self.log_stream = (f"{datetime.now(timezone.utc):%Y/%m/%d}/[{fn.version}]{uuid.uuid4().hex}")
        self.stderr_path = os.path.join(self.root, "stderr.log")
        self._stderr = open(self.stderr_path, "wb")
        self._stderr_read = 0
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-u", WORKER_SCRIPT, self.task_root, fn.handler],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, cwd=self.task_root,
            env=runner.environment(fn, self), text=True, encoding="utf-8")
        self.answers: queue.Queue = queue.Queue()
        self.fresh = True
        reader = threading.Thread(target=self._read, name=f"labkit-lambda-{fn.function_name[:20]}", daemon=True)
        reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.answers.put(line)
        self.answers.put(None)            # the process ended

    def stray_output(self) -> str:
        """What the process wrote below Python (C extensions, subprocesses) since the last call."""
        try:
            with open(self.stderr_path, "rb") as handle:
                handle.seek(self._stderr_read)
                data = handle.read()
        except OSError:
            return ""
        self._stderr_read += len(data)
        return data.decode("utf-8", "replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except Exception:
                pass
        self._stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)


def _safe_extract(archive: zipfile.ZipFile, target: str) -> None:
    """Unzip without letting a member escape ``target`` (``../`` or absolute names)."""
    base = os.path.realpath(target)
    for member in archive.infolist():
        path = os.path.realpath(os.path.join(base, member.filename))
        if path != base and not path.startswith(base + os.sep):
            raise ValueError(f"The zip member {member.filename!r} would land outside the function's directory.")
    archive.extractall(base)


class LambdaRunner:
    """Runs the lab's Python functions; one per lab (``lab.lambdas``)."""

    def __init__(self, lab) -> None:
        self.lab = lab
        self._environments: dict[str, _Environment] = {}
        self._logs: dict[str, list[LogLine]] = {}
        self._lock = threading.Lock()                 # guards the two maps
        self._function_locks: dict[str, threading.Lock] = {}
        #: called with (function, log stream, [LogLine]) after each invocation (CloudWatch Logs copy)
        self.log_sink: Callable[[Any, str, list[LogLine]], None] | None = None

    # -- the environment a handler sees --------------------------------------------------------
    def environment(self, fn, env: _Environment) -> dict[str, str]:
        lab = self.lab
        variables = {
            # what the process needs to run at all
            "PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8", "TZ": "UTC",
            "HOME": env.root, "TMPDIR": env.root, "PYTHONIOENCODING": "utf-8",
            "SYSTEMROOT": os.environ.get("SYSTEMROOT", ""),        # Windows needs it for sockets
        }
        variables.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
        # Reserved variables, set by Lambda whatever the function's configuration says.
        variables.update({
            "AWS_REGION": fn.region, "AWS_DEFAULT_REGION": fn.region,
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name, "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": env.log_stream, "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
            "_HANDLER": fn.handler or "", "LAMBDA_TASK_ROOT": env.task_root, "LAMBDA_RUNTIME_DIR": env.root,
            # the execution role's credentials: fake ones that only the lab accepts
            "AWS_ACCESS_KEY_ID": FUNCTION_ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": FUNCTION_SECRET_ACCESS_KEY,
            "AWS_SESSION_TOKEN": "labkit-lambda-session",
            # every AWS SDK call goes to the lab, never to AWS, and never through a proxy
            "AWS_ENDPOINT_URL": lab.endpoint_url, "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        })
        if getattr(lab, "_tls", None) is not None:
            variables["AWS_CA_BUNDLE"] = lab.ca_bundle
        return {k: v for k, v in variables.items() if v != "" or k.startswith("AWS_")}

    # -- running ---------------------------------------------------------------------------------
    def invoke(self, fn, event: Any, *, timeout: float | None = None) -> Invocation:
        """Run ``fn`` (moto's LambdaFunction) on ``event``; ``timeout`` seconds caps the function's own
        ``Timeout`` (Cognito passes its 5-second limit). Never raises for the handler's own errors."""
        check_runtime(fn.run_time)
        with self._lock:
            function_lock = self._function_locks.setdefault(fn.function_arn, threading.Lock())
        # One invocation at a time per function: an environment serves one request at a time.
        with function_lock:
            return self._invoke(fn, event, timeout)

    def _invoke(self, fn, event: Any, timeout: float | None) -> Invocation:
        limit = float(fn.timeout or 3)
        function_limit = limit
        if timeout is not None:
            limit = min(limit, float(timeout))
        env = self._environment_for(fn)
        cold = env.fresh
        env.fresh = False
        request_id = str(uuid.uuid4())
        # A new worker first starts Python, which on a busy machine (a workshop's shared server) can
        # take seconds that AWS never spends: the clock of the function's Timeout and of Cognito's
        # 5-second limit starts when it is ready. Importing the handler's module still counts.
        startup_failed = cold and not self._wait_until_ready(env)
        started = time.time()
        request = {"event": event, "request_id": request_id, "deadline": started + limit,
                   "function": {"name": fn.function_name, "version": str(fn.version), "arn": fn.function_arn,
                                "memory": fn.memory_size, "log_group": f"/aws/lambda/{fn.function_name}",
                                "log_stream": env.log_stream}}
        invocation = Invocation(fn.function_name, request_id, cold_start=cold)
        lines = [f"START RequestId: {request_id} Version: {fn.version}"]
        answer = None
        try:
            if startup_failed:
                raise OSError("the worker did not start")
            env.process.stdin.write(json.dumps(request) + "\n")
            env.process.stdin.flush()
            answer = env.answers.get(timeout=limit)
        except queue.Empty:
            invocation.timed_out = True
        except (OSError, ValueError):
            answer = None
        invocation.duration_ms = (time.time() - started) * 1000
        if invocation.timed_out:
            self._discard(fn.function_arn)
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            message = f"{stamp} {request_id} Task timed out after {limit:.2f} seconds"
            invocation.error = {"errorMessage": message, "errorType": "Sandbox.Timedout"}
            # Cognito's own limit cut the call short (not the function's Timeout): the caller says so.
            invocation.error["cutByCaller"] = timeout is not None and float(timeout) <= function_limit
            lines.append(message)
        elif answer is None:
            stray = env.stray_output()
            self._discard(fn.function_arn)
            invocation.error = {"errorMessage": f"RequestId: {request_id} Error: Runtime exited without providing "
                                                "a reason", "errorType": "Runtime.ExitError"}
            lines.extend(l for l in stray.splitlines() if l)
            lines.append(invocation.error["errorMessage"])
        else:
            data = json.loads(answer)
            printed = (data.get("logs") or "") + env.stray_output()
            lines.extend(printed.rstrip("\n").split("\n") if printed.strip() else [])
            if "error" in data:
                invocation.error = data["error"]
                if data["error"].get("errorType") == "Runtime.ExitError":
                    self._discard(fn.function_arn)
            else:
                invocation.result = data.get("result")
        lines.append(f"END RequestId: {request_id}")
        billed = max(1, int(invocation.duration_ms + 0.999))
        lines.append(f"REPORT RequestId: {request_id}\tDuration: {invocation.duration_ms:.2f} ms\t"
                     f"Billed Duration: {billed} ms\tMemory Size: {fn.memory_size} MB")
        invocation.logs = lines
        self._record(fn, env.log_stream, lines)
        return invocation

    @staticmethod
    def _wait_until_ready(env: _Environment) -> bool:
        """Wait for a new worker's ready line (at most STARTUP_LIMIT seconds); False if it never came."""
        try:
            line = env.answers.get(timeout=STARTUP_LIMIT)
        except queue.Empty:
            return False
        return line is not None and json.loads(line).get("ready") is True

    def _environment_for(self, fn) -> _Environment:
        signature = (getattr(fn, "code_sha_256", None), fn.handler, fn.run_time, fn.timeout, fn.memory_size,
                     json.dumps(fn.environment_vars or {}, sort_keys=True), str(fn.version))
        with self._lock:
            env = self._environments.get(fn.function_arn)
            if env is not None and (env.signature != signature or env.process.poll() is not None):
                # new code or configuration: Lambda starts new environments for it
                del self._environments[fn.function_arn]
                env.close()
                env = None
            if env is None:
                env = self._environments[fn.function_arn] = _Environment(self, fn, signature)
            return env

    def _discard(self, arn: str) -> None:
        with self._lock:
            env = self._environments.pop(arn, None)
        if env is not None:
            env.close()

    def forget(self, arn: str) -> None:
        """The function was deleted: stop its environment."""
        self._discard(arn)

    # -- logs ------------------------------------------------------------------------------------
    def _record(self, fn, stream: str, messages: list[str]) -> None:
        now = int(time.time() * 1000)
        lines = [LogLine(now, message, stream) for message in messages]
        with self._lock:
            self._logs.setdefault(fn.function_name, []).extend(lines)
        if self.log_sink is not None:
            try:
                self.log_sink(fn, stream, lines)
            except Exception:     # the copy to CloudWatch Logs is a convenience, never a failure
                pass

    def logs(self, function_name: str) -> FunctionLogs:
        with self._lock:
            return FunctionLogs(function_name, list(self._logs.get(function_name, [])))

    def close(self) -> None:
        with self._lock:
            environments, self._environments = list(self._environments.values()), {}
        for env in environments:
            env.close()


# -- deployment packages for notebooks -------------------------------------------------------------
def lambda_zip(source: "str | Callable", *, filename: str = "index.py", extra_files: dict[str, str] | None = None
               ) -> bytes:
    """A deployment package (zip bytes) holding ``source`` as ``filename`` (default ``index.py``).

    ``source`` is Python source text, or a function defined in a file or notebook cell: its source
    becomes the module and ``Handler`` is then ``"index.<function name>"``. A function's module is
    *not* shipped with it: imports and helpers it needs go inside it (as in any Lambda module).

        >>> zipped = lambda_zip("def handler(event, context):\\n    return event\\n")
        >>> zipped[:2]
        b'PK'
    """
    if callable(source):
        try:
            text = textwrap.dedent(inspect.getsource(source))
        except (OSError, TypeError):
            raise ValueError("lambda_zip could not read that function's source; pass the source text instead.") from None
    elif isinstance(source, str):
        text = textwrap.dedent(source)
    else:
        raise TypeError("lambda_zip takes Python source text or a function")
    compile(text, filename, "exec")     # a syntax error shows here, not at the first sign-up
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(filename, date_time=(2020, 1, 1, 0, 0, 0)), text)
        for name, content in (extra_files or {}).items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()
