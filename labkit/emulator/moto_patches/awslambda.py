"""Patches on moto's Lambda: functions run from their zip by :mod:`labkit.emulator.lambdas`, never Docker.

Pinned to moto 5.2. moto stores functions (CreateFunction, UpdateFunctionCode, …) and would run
them in a Docker container; while a lab runs:

==============================  ===============================================================
moto (5.2)                      patched to
==============================  ===============================================================
CreateFunction                  … refuses runtimes other than python3.x (and container images)
UpdateFunctionConfiguration     … refuses a change to a runtime other than python3.x
Invoke / InvokeAsync            runs the handler in a Python subprocess (LambdaFunction.invoke)
DeleteFunction                  … also stops the function's execution environment
==============================  ===============================================================

Each invocation's log lines are copied into moto's CloudWatch Logs (group ``/aws/lambda/<name>``),
so ``lab.client("logs").filter_log_events(logGroupName=…)`` reads them as on AWS.
Installed lazily: on the first request to Lambda, or the first trigger a user pool runs.
"""
from __future__ import annotations

import base64
import json

from . import MotoInternalsChanged
from ._patcher import Patcher, require, require_assigned

_patcher = Patcher()
_runner = None
_lab = None


def _moto():
    from moto.awslambda import exceptions, models
    from moto.logs import models as logs_models

    return models, exceptions, logs_models


def check_internals() -> None:
    """Fail loudly if the moto internals these patches rely on have moved."""
    models, exceptions, logs_models = _moto()
    require(models, "lambda_backends", "LambdaFunction", "LambdaBackend")
    require(models.LambdaFunction, "invoke", "update_configuration")
    require(models.LambdaBackend, "create_function", "delete_function", "get_function", "invoke",
            "update_function_configuration")
    require_assigned(models.LambdaFunction, "function_name", "handler", "run_time", "environment_vars",
                     "timeout", "memory_size", "function_arn", "version", "region", "package_type",
                     "logs_backend", "role")
    require(exceptions, "InvalidParameterValueException")
    require(logs_models.LogsBackend, "ensure_log_group", "create_log_stream", "put_log_events")
    require(logs_models, "logs_backends")
    # code_bytes / code_sha_256 are set by _set_function_code, not __init__ directly.
    require(models.LambdaFunction, "_set_function_code")


def backend(lab):
    models, _, _ = _moto()
    return models.lambda_backends[lab.account_id][lab.region]


def _refuse_runtime(spec: dict) -> None:
    from ..lambdas import UnsupportedRuntime, check_runtime

    _, exceptions, _ = _moto()
    if spec.get("PackageType") == "Image":
        raise exceptions.InvalidParameterValueException(
            "The lab runs zip packages with a python3.x runtime only; container images (PackageType=Image) "
            "cannot run here.")
    try:
        check_runtime(spec.get("Runtime"))
    except UnsupportedRuntime as exc:
        raise exceptions.InvalidParameterValueException(str(exc)) from None


def _invoke(fn, body, request_headers, response_headers):
    """Stands in for LambdaFunction.invoke (which runs Docker): the handler runs in a subprocess."""
    try:
        event = json.loads(body) if body else {}
    except ValueError:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorMessage": "Could not parse request body into json",
                           "errorType": "Runtime.UnmarshalError"}).encode()
    invocation = _runner.invoke(fn, event)
    response_headers["x-amz-executed-version"] = str(fn.version)
    tail = "\n".join(invocation.logs)[-4096:]          # Invoke(LogType="Tail"): the last 4 KB of the log
    response_headers["x-amz-log-result"] = base64.b64encode(tail.encode()).decode()
    if invocation.error is not None:
        response_headers["x-amz-function-error"] = "Unhandled"
        error = {k: v for k, v in invocation.error.items() if k in ("errorMessage", "errorType", "stackTrace")}
        if not invocation.timed_out:
            error["requestId"] = invocation.request_id
        return json.dumps(error).encode()
    return json.dumps(invocation.result).encode()


def _copy_to_cloudwatch(fn, stream: str, lines) -> None:
    logs = fn.logs_backend
    group = f"/aws/lambda/{fn.function_name}"
    logs.ensure_log_group(group)
    if stream not in logs.groups[group].streams:
        logs.create_log_stream(group, stream)
    logs.put_log_events(group, stream, [{"timestamp": line.timestamp, "message": line.message} for line in lines])


def install(lab):
    """Patch moto's Lambda for ``lab``; return the :class:`~labkit.emulator.lambdas.LambdaRunner`."""
    global _runner, _lab
    from ..lambdas import LambdaRunner

    models, _, _ = _moto()
    if _patcher.active:
        uninstall()
    _lab = lab
    _runner = LambdaRunner(lab)
    _runner.log_sink = _copy_to_cloudwatch
    original_create = models.LambdaBackend.create_function
    original_update = models.LambdaBackend.update_function_configuration
    original_delete = models.LambdaBackend.delete_function

    def create_function(self, spec):
        _refuse_runtime(spec)
        return original_create(self, spec)

    def update_function_configuration(self, function_name, qualifier, body):
        if "Runtime" in body:
            _refuse_runtime({"Runtime": body["Runtime"]})
        return original_update(self, function_name, qualifier, body)

    def delete_function(self, function_name, qualifier=None):
        try:
            arn = self.get_function(function_name, qualifier).function_arn
        except Exception:
            arn = None
        original_delete(self, function_name, qualifier)
        if arn is not None and _runner is not None:
            _runner.forget(arn)

    _patcher.replace(models.LambdaBackend, "create_function", create_function)
    _patcher.replace(models.LambdaBackend, "update_function_configuration", update_function_configuration)
    _patcher.replace(models.LambdaBackend, "delete_function", delete_function)
    _patcher.replace(models.LambdaFunction, "invoke", _invoke)
    lab.on_stop(_runner.close)
    return _runner


def uninstall() -> None:
    global _runner, _lab
    if _runner is not None:
        _runner.close()
    _patcher.undo()
    _runner = None
    _lab = None


def is_lambda_request(request) -> bool:
    """A request to the Lambda API (signed for the ``lambda`` service, or on its REST paths)."""
    _, service = request.credential_scope
    return service == "lambda" or request.path.startswith("/2015-03-31/functions")


__all__ = ["install", "uninstall", "check_internals", "backend", "is_lambda_request", "MotoInternalsChanged"]
