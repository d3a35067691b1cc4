"""Deploy a Python function as a Lambda function of the lab, for lessons about Lambda triggers.

    >>> from labkit import Lab
    >>> from labkit.course.triggers import deploy_function
    >>> def pre_sign_up(event, context):
    ...     event["response"]["autoConfirmUser"] = True
    ...     return event
    >>> with Lab(seed=1) as lab:                                   # doctest: +SKIP
    ...     arn = deploy_function(lab, pre_sign_up)
    ...     idp = lab.client("cognito-idp")
    ...     pool = idp.create_user_pool(PoolName="shop", LambdaConfig={"PreSignUp": arn})

Everything here is plain boto3 a learner could type (IAM CreateRole, Lambda CreateFunction /
UpdateFunctionCode); the helper saves the ceremony of the zip and the execution role, and makes a
notebook cell safe to run twice (the function's code is replaced, not created again).
"""
from __future__ import annotations

import json
from typing import Any, Callable

from ..emulator.lambdas import lambda_zip

__all__ = ["deploy_function", "lambda_zip", "execution_role", "EXECUTION_ROLE_NAME", "RUNTIME"]

EXECUTION_ROLE_NAME = "labkit-lambda-execution"
RUNTIME = "python3.12"
_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                  "Action": "sts:AssumeRole"}]}


def execution_role(lab) -> str:
    """The ARN of the lab's Lambda execution role (created on first use, trusted by lambda.amazonaws.com)."""
    iam = lab.client("iam")
    try:
        return iam.get_role(RoleName=EXECUTION_ROLE_NAME)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=EXECUTION_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(_TRUST),
                               Description="Execution role of the lab's Lambda functions")["Role"]["Arn"]


def deploy_function(lab, handler: "Callable | str", *, name: str | None = None, handler_name: str | None = None,
                    timeout: int = 3, environment: dict[str, str] | None = None, runtime: str = RUNTIME) -> str:
    """Deploy ``handler`` (a ``def f(event, context)`` or its module's source text) and return the
    function's ARN, ready for a user pool's ``LambdaConfig``.

    A function is shipped as ``index.py`` alone, so what it imports goes inside it. ``name``
    defaults to the function's name (for source text, give it). Deploying again under the same name
    replaces the code and configuration, as UpdateFunctionCode would.
    """
    if callable(handler):
        name = name or handler.__name__
        handler_name = handler_name or handler.__name__
    elif isinstance(handler, str):
        if not name:
            raise ValueError("Give the function a name: deploy_function(lab, source, name='pre-sign-up').")
        handler_name = handler_name or "handler"
    else:
        raise TypeError("deploy_function takes a Python function or its module's source text")
    zipped = lambda_zip(handler)
    lam = lab.client("lambda")
    config: dict[str, Any] = {"Handler": f"index.{handler_name}", "Runtime": runtime, "Timeout": timeout,
                              "Environment": {"Variables": dict(environment or {})}}
    try:
        lam.get_function(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        return lam.create_function(FunctionName=name, Role=execution_role(lab), Code={"ZipFile": zipped},
                                   **config)["FunctionArn"]
    lam.update_function_code(FunctionName=name, ZipFile=zipped)
    return lam.update_function_configuration(FunctionName=name, **config)["FunctionArn"]
