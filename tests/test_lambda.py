"""Lambda functions in the lab, through plain boto3: Python handlers run from their zip, no Docker.

Each docstring names the AWS Lambda behaviour the lab reproduces (Lambda developer guide: the
Python handler and context object, environment variables, logging, invocation errors, timeouts).
"""
import base64
import json
import subprocess
import sys
import time
import zipfile
import io

import pytest
from botocore.exceptions import ClientError

from labkit import Lab
from labkit.course.triggers import deploy_function, execution_role
from labkit.emulator.lambdas import lambda_zip


@pytest.fixture(scope="module")
def lab():
    with Lab(seed=31) as lab:
        yield lab


def create(lab, name, source, **config):
    return lab.client("lambda").create_function(
        FunctionName=name, Runtime=config.pop("Runtime", "python3.12"), Handler=config.pop("Handler", "index.handler"),
        Role=execution_role(lab), Code={"ZipFile": lambda_zip(source)}, **config)


def invoke(lab, name, event=None, **kwargs):
    response = lab.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
    return response, json.loads(response["Payload"].read())


def test_plain_boto3_create_function_and_invoke_runs_the_handler(lab):
    """CreateFunction with a zip and Handler "index.handler", then Invoke: the handler's return value
    is the payload; the context carries function_name, aws_request_id and the remaining time."""
    create(lab, "echo", """
import os
def handler(event, context):
    return {"got": event, "name": context.function_name, "request_id": context.aws_request_id,
            "remaining": context.get_remaining_time_in_millis(), "region": os.environ["AWS_REGION"],
            "env_name": os.environ["AWS_LAMBDA_FUNCTION_NAME"], "endpoint": os.environ["AWS_ENDPOINT_URL"],
            "greeting": os.environ["GREETING"]}
""", Timeout=7, Environment={"Variables": {"GREETING": "hi"}})
    response, payload = invoke(lab, "echo", {"a": 1})
    assert "FunctionError" not in response
    assert payload["got"] == {"a": 1}
    assert payload["name"] == payload["env_name"] == "echo"
    assert payload["region"] == lab.region and payload["endpoint"] == lab.endpoint_url
    assert payload["greeting"] == "hi"
    assert len(payload["request_id"]) == 36
    assert 0 < payload["remaining"] <= 7000


def test_a_handler_that_raises_gives_an_unhandled_function_error(lab):
    """Invoke answers 200 with FunctionError "Unhandled" and {errorMessage, errorType, stackTrace}."""
    create(lab, "raiser", "def handler(event, context):\n    raise ValueError('no such order')\n")
    response, payload = invoke(lab, "raiser")
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError" and payload["errorMessage"] == "no such order"
    assert any("raise ValueError" in line for line in payload["stackTrace"])


def test_runtimes_other_than_python_are_refused_with_a_clear_message(lab):
    """The lab runs Python handlers only: CreateFunction with nodejs20.x is refused, saying why."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.js", "exports.handler = async () => 1;")
    with pytest.raises(ClientError) as exc:
        lab.client("lambda").create_function(FunctionName="node", Runtime="nodejs20.x", Handler="index.handler",
                                             Role=execution_role(lab), Code={"ZipFile": buffer.getvalue()})
    error = exc.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert "Python only" in error["Message"] and "nodejs20.x" in error["Message"]


def test_print_output_is_logged_as_cloudwatch_logs_holds_it(lab):
    """print() goes to the function's log between START / END / REPORT lines, in the log group
    /aws/lambda/<name>; Invoke(LogType="Tail") returns the end of it, base64-encoded."""
    create(lab, "talker", "def handler(event, context):\n    print('hello from', context.function_name)\n    return 1\n")
    response, _ = invoke(lab, "talker", LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "hello from talker" in tail
    lines = [str(line) for line in lab.lambda_logs("talker")]
    assert lines[0].startswith("START RequestId: ") and lines[1] == "hello from talker"
    assert lines[2].startswith("END RequestId: ") and lines[3].startswith("REPORT RequestId: ")
    assert lab.lambda_logs("talker").output == ["hello from talker"]
    events = lab.client("logs").filter_log_events(logGroupName="/aws/lambda/talker")["events"]
    assert "hello from talker" in [e["message"] for e in events]


def test_boto3_inside_a_handler_reaches_the_lab_not_aws(lab):
    """The execution environment's AWS SDK talks to the lab (AWS_ENDPOINT_URL, fake credentials):
    an item the handler writes to DynamoDB is in the lab's table."""
    ddb = lab.client("dynamodb")
    ddb.create_table(TableName="profiles", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    create(lab, "writer", """
import boto3
def handler(event, context):
    boto3.client("dynamodb").put_item(TableName="profiles", Item={"id": {"S": event["id"]}})
    return "ok"
""", Timeout=10)
    _, payload = invoke(lab, "writer", {"id": "u-1"})
    assert payload == "ok"
    assert ddb.get_item(TableName="profiles", Key={"id": {"S": "u-1"}})["Item"] == {"id": {"S": "u-1"}}


def test_a_handler_cannot_reach_the_internet(lab):
    """Nothing a learner's function does leaves the machine: connections go to 127.0.0.1 only."""
    create(lab, "curious", """
import socket
def handler(event, context):
    try:
        socket.create_connection(("example.com", 80), timeout=2)
    except OSError as exc:
        return str(exc)
    return "reached the internet"
""")
    _, payload = invoke(lab, "curious")
    assert "127.0.0.1" in payload and "reached" not in payload


def test_a_function_past_its_timeout_is_stopped(lab):
    """Lambda stops a function at its Timeout: "Task timed out after 1.00 seconds", and the next
    invocation runs in a fresh execution environment."""
    create(lab, "sleeper", """
import time
def handler(event, context):
    if event.get("sleep"):
        time.sleep(30)
    return "awake"
""", Timeout=1)
    started = time.monotonic()
    response, payload = invoke(lab, "sleeper", {"sleep": True})
    assert time.monotonic() - started < 5
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert invoke(lab, "sleeper")[1] == "awake"


def test_an_execution_environment_is_reused_until_the_code_changes(lab):
    """Module-level state survives between invocations of one environment (Lambda reuses them);
    UpdateFunctionCode starts a new one."""
    source = "COUNT = 0\ndef handler(event, context):\n    global COUNT\n    COUNT += 1\n    return COUNT\n"
    create(lab, "counter", source)
    assert [invoke(lab, "counter")[1] for _ in range(3)] == [1, 2, 3]
    lab.client("lambda").update_function_code(FunctionName="counter", ZipFile=lambda_zip(source + "\n# v2\n"))
    assert invoke(lab, "counter")[1] == 1


def test_a_wrong_handler_name_is_an_import_error(lab):
    """Handler "index.nothing" on a module without it: Runtime.HandlerNotFound; a missing module:
    Runtime.ImportModuleError."""
    create(lab, "misnamed", "def handler(event, context):\n    return 1\n", Handler="index.nothing")
    assert invoke(lab, "misnamed")[1]["errorType"] == "Runtime.HandlerNotFound"
    create(lab, "nomodule", "def handler(event, context):\n    return 1\n", Handler="app.handler")
    assert invoke(lab, "nomodule")[1]["errorType"] == "Runtime.ImportModuleError"


def test_lambda_zip_packages_a_function_and_refuses_broken_source():
    """lambda_zip(func) ships the function's source as index.py; a syntax error shows at once."""
    def handler(event, context):
        return event

    with zipfile.ZipFile(io.BytesIO(lambda_zip(handler))) as archive:
        assert archive.namelist() == ["index.py"]
        assert "def handler(event, context):" in archive.read("index.py").decode()
    with pytest.raises(SyntaxError):
        lambda_zip("def handler(:\n")


def test_deploy_function_is_safe_to_run_twice(lab):
    """Re-running a notebook cell replaces the function's code instead of failing on a duplicate."""
    def greet(event, context):
        return "v1"

    arn = deploy_function(lab, greet)
    assert invoke(lab, "greet")[1] == "v1"
    assert deploy_function(lab, "def greet(event, context):\n    return 'v2'\n", name="greet", handler_name="greet") == arn
    assert invoke(lab, "greet")[1] == "v2"


def test_a_user_pool_lesson_does_not_load_lambda():
    """Cold start stays as it was: Lambda support loads on the first Lambda request (or trigger)."""
    script = ("import sys, labkit\nwith labkit.Lab(seed=1) as lab:\n"
              "    lab.client('cognito-idp').create_user_pool(PoolName='p')\n"
              "    before = [m for m in ('moto.awslambda.models', 'labkit.emulator.lambdas') if m in sys.modules]\n"
              "    lab.client('lambda').list_functions()\n"
              "    after = 'labkit.emulator.lambdas' in sys.modules\n"
              "print(before, after)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[] True"


def _slow_worker(tmp_path, seconds):
    """A stand-in for the lab's worker script that spends ``seconds`` starting up, as Python does on
    a busy workshop server, then runs the real worker."""
    from labkit.emulator import lambdas
    script = tmp_path / "slow_worker.py"
    script.write_text(f"import runpy, sys, time\ntime.sleep({seconds})\n"
                      f"runpy.run_path({lambdas.WORKER_SCRIPT!r}, run_name='__main__')\n")
    return str(script)


def test_a_slow_worker_start_does_not_count_against_the_function_timeout(lab, tmp_path, monkeypatch):
    """The clock of Timeout (and of Cognito's 5 seconds) starts when the new worker's Python is up:
    AWS's runtime is already running when Lambda's timer starts. Here starting takes 1.5 s and the
    function's Timeout is 1 s: the invocation still succeeds."""
    from labkit.emulator import lambdas
    monkeypatch.setattr(lambdas, "WORKER_SCRIPT", _slow_worker(tmp_path, 1.5))
    create(lab, "slow-start", "def handler(event, context):\n    return 'done'\n", Timeout=1)
    response, payload = invoke(lab, "slow-start")
    assert "FunctionError" not in response and payload == "done"


def test_a_worker_that_never_starts_is_a_runtime_exit_error(lab, tmp_path, monkeypatch):
    """A worker that is not up within STARTUP_LIMIT fails the invocation (Runtime.ExitError) instead
    of waiting for ever."""
    from labkit.emulator import lambdas
    monkeypatch.setattr(lambdas, "WORKER_SCRIPT", _slow_worker(tmp_path, 30))
    monkeypatch.setattr(lambdas, "STARTUP_LIMIT", 0.5)
    create(lab, "never-starts", "def handler(event, context):\n    return 'done'\n")
    response, payload = invoke(lab, "never-starts")
    assert response.get("FunctionError") == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
