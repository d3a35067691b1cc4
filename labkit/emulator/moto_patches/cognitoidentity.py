"""Patches on moto's cognito-identity (identity pools) and STS: the glue for :mod:`labkit.emulator.identity_pools`.

Pinned to moto 5.2. Raw moto accepts any string as a login token, hands every identity the same
constant key ``TESTACCESSKEY12345`` for 90 seconds, has no SetIdentityPoolRoles, and ignores
AllowClassicFlow. While a lab runs, these patches route the identity-pool API through
:class:`labkit.emulator.identity_pools.IdentityPools`:

==============================  ===============================================================
moto (5.2)                      patched to
==============================  ===============================================================
CreateIdentityPool              … also stores AllowClassicFlow (DescribeIdentityPool shows it)
UpdateIdentityPool              … also updates AllowClassicFlow
GetId                           checks every login; one identity per user; guests only if allowed
GetCredentialsForIdentity       chooses the role, checks its trust policy, real STS keys, 1 h
GetOpenIdToken                  signed OpenID token; only with AllowClassicFlow
Set/GetIdentityPoolRoles        (added) Roles and RoleMappings
DescribeIdentity                (added)
ListIdentities                  lists the lab's identities with their logins
DeleteIdentityPool              … also forgets its identities and roles
STS AssumeRoleWithWebIdentity   for tokens from GetOpenIdToken: signature, expiry, trust policy
==============================  ===============================================================

and add a request hook that authorizes S3 and DynamoDB requests signed with those credentials.

Everything this module touches inside moto is listed in :func:`check_internals`, which raises
:class:`~labkit.emulator.moto_patches.MotoInternalsChanged` when a moto upgrade moves any of it.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from . import MotoInternalsChanged
from ._patcher import Patcher, names_used, require, require_assigned

_patcher = Patcher()
_lab = None
_identity_state = None   # the running lab's IdentityPools


# -- what we rely on inside moto ----------------------------------------------------------------
def _moto():
    """moto's classes and backends this module uses (import inside: moto is heavy to import)."""
    from moto.cognitoidentity import models as ci_models
    from moto.cognitoidentity import responses as ci_responses
    from moto.core import exceptions as core_exceptions
    from moto.core import responses as core_responses
    from moto.dynamodb import models as ddb_models
    from moto.iam import models as iam_models
    from moto.s3 import models as s3_models
    from moto.sts import models as sts_models
    from moto.sts import responses as sts_responses

    return {
        "CognitoIdentityResponse": ci_responses.CognitoIdentityResponse,
        "CognitoIdentityPool": ci_models.CognitoIdentityPool,
        "CognitoIdentityBackend": ci_models.CognitoIdentityBackend,
        "cognitoidentity_backends": ci_models.cognitoidentity_backends,
        "TokenResponse": sts_responses.TokenResponse,
        "STSBackend": sts_models.STSBackend,
        "AssumedRole": sts_models.AssumedRole,
        "sts_backends": sts_models.sts_backends,
        "IAMBackend": iam_models.IAMBackend,
        "Role": iam_models.Role,
        "Policy": iam_models.Policy,
        "iam_backends": iam_models.iam_backends,
        "DynamoDBBackend": ddb_models.DynamoDBBackend,
        "dynamodb_backends": ddb_models.dynamodb_backends,
        "Table": ddb_models.Table,
        "S3Backend": s3_models.S3Backend,
        "FakeBucket": s3_models.FakeBucket,
        "s3_backends": s3_models.s3_backends,
        "JsonRESTError": core_exceptions.JsonRESTError,
        "ActionResult": core_responses.ActionResult,
    }


def check_internals() -> None:
    """Fail loudly if any moto internal these patches use has moved (see the module docstring)."""
    try:
        m = _moto()
    except (ImportError, AttributeError) as exc:
        raise MotoInternalsChanged(f"moto internals moved: {exc}") from None
    require(m["CognitoIdentityResponse"], "create_identity_pool", "update_identity_pool", "get_id",
            "get_credentials_for_identity", "get_open_id_token", "list_identities", "delete_identity_pool",
            "describe_identity_pool", "_get_param", "backend")
    require(m["CognitoIdentityPool"], "to_json")
    require_assigned(m["CognitoIdentityPool"], "identity_pool_id", "allow_unauthenticated_identities",
                      "cognito_identity_providers")
    require_assigned(m["CognitoIdentityBackend"], "identity_pools", "pools_identities")
    require(m["TokenResponse"], "assume_role_with_web_identity", "_get_param")
    require(m["STSBackend"], "assume_role_with_web_identity")
    require(m["AssumedRole"], "arn", "user_id")
    require_assigned(m["AssumedRole"], "expiration", "access_key_id", "secret_access_key", "session_token")
    require(m["IAMBackend"], "get_role_by_arn")
    require_assigned(m["Role"], "assume_role_policy_document", "policies", "managed_policies", "id")
    require(m["Role"], "arn")
    require_assigned(m["Policy"], "versions", "default_version_id")
    require_assigned(m["DynamoDBBackend"], "tables")
    require_assigned(m["Table"], "hash_key_attr")
    require(m["S3Backend"], "get_bucket")
    require_assigned(m["FakeBucket"], "policy")
    import moto.core.responses as core_responses

    if "ServiceException" not in names_used(core_responses.BaseResponse.call_action):
        raise MotoInternalsChanged("moto internals moved: BaseResponse.call_action no longer serializes errors")


# -- moto as labkit.emulator.identity_pools.Backend --------------------------------------------------------------
class MotoBackend:
    """Reads identity pools, IAM roles, DynamoDB key schemas and bucket policies out of moto,
    and asks moto's STS for credentials (:class:`labkit.emulator.identity_pools.Backend`)."""

    def __init__(self, lab) -> None:
        self.lab = lab
        self.m = _moto()

    def _pool_model(self, pool_id: str):
        region = (pool_id or "").split(":", 1)[0]
        try:
            backend = self.m["cognitoidentity_backends"][self.lab.account_id][region]
        except KeyError:
            return None
        return backend.identity_pools.get(pool_id)

    def pool(self, pool_id: str) -> dict | None:
        model = self._pool_model(pool_id)
        return json.loads(model.to_json()) if model is not None else None

    def role(self, role_arn: str):
        from ..identity_pools import Role

        iam_backend = self.m["iam_backends"][self.lab.account_id]["aws"]
        try:
            role = iam_backend.get_role_by_arn(role_arn)
        except Exception:
            return None
        policies = [_document(text) for text in role.policies.values()]
        for managed in role.managed_policies.values():
            for version in managed.versions:
                if version.version_id == managed.default_version_id:
                    policies.append(_document(version.document))
        return Role(arn=role.arn, role_id=role.id, trust_policy=_document(role.assume_role_policy_document),
                    policies=policies)

    def issue(self, role_arn: str, session_name: str, expiration: datetime):
        from ..identity_pools import StsSession

        sts = self.m["sts_backends"][self.lab.account_id]["aws"]
        assumed = sts.assume_role_with_web_identity(
            region_name=self.lab.region, role_session_name=session_name, role_arn=role_arn,
            policy=None, duration=3600, external_id=None)
        assumed.expiration = expiration.astimezone(timezone.utc).replace(tzinfo=None)   # moto keeps naive UTC
        return StsSession(access_key_id=assumed.access_key_id, secret_access_key=assumed.secret_access_key,
                          session_token=assumed.session_token, assumed_role_arn=assumed.arn,
                          assumed_role_id=assumed.user_id)

    def hash_key(self, table_name: str) -> str | None:
        try:
            table = self.m["dynamodb_backends"][self.lab.account_id][self.lab.region].tables.get(table_name)
        except KeyError:
            return None
        return getattr(table, "hash_key_attr", None) or None

    def bucket_policy(self, bucket: str) -> dict | None:
        try:
            policy = self.m["s3_backends"][self.lab.account_id]["aws"].get_bucket(bucket).policy
        except Exception:
            return None
        return _document(policy.decode() if isinstance(policy, bytes) else policy) if policy else None


def _document(text) -> dict:
    from ..iam import as_policy

    return as_policy(text)


# -- the patched API ----------------------------------------------------------------------------
def _state():
    return _identity_state


def _json_error(exc):
    return _moto()["JsonRESTError"](exc.code, exc.message)


def _identity_api(method):
    """Run an identity-pool operation; an IdentityPoolError becomes Cognito's JSON error."""
    from ..identity_pools import IdentityPoolError

    def wrapper(self):
        try:
            return method(self)
        except IdentityPoolError as exc:
            raise _json_error(exc) from None
    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


_originals: dict = {}     # moto's methods that the patches call through to, by name


def _pool_to_json(self) -> str:
    data = json.loads(_originals["to_json"](self))
    data["AllowClassicFlow"] = _state().classic_flow.get(self.identity_pool_id, False)
    return json.dumps(data)


def _create_identity_pool(self) -> str:
    body = _originals["create_identity_pool"](self)
    pool_id = json.loads(body)["IdentityPoolId"]
    _state().classic_flow[pool_id] = bool(self._get_param("AllowClassicFlow"))
    return self.backend.identity_pools[pool_id].to_json()


def _update_identity_pool(self) -> str:
    pool_id = self._get_param("IdentityPoolId")
    _state()._pool(pool_id)
    _originals["update_identity_pool"](self)
    if self._get_param("AllowClassicFlow") is not None:
        _state().classic_flow[pool_id] = bool(self._get_param("AllowClassicFlow"))
    return self.backend.identity_pools[pool_id].to_json()


def _delete_identity_pool(self) -> str:
    pool_id = self._get_param("IdentityPoolId")
    body = _originals["delete_identity_pool"](self)
    _state().forget_pool(pool_id)
    return body


def _get_id(self) -> str:
    identity_id = _state().get_id(self._get_param("IdentityPoolId"), self._get_param("Logins"))
    return json.dumps({"IdentityId": identity_id})


def _get_credentials_for_identity(self) -> str:
    result = _state().get_credentials(self._get_param("IdentityId"), self._get_param("Logins"),
                                      self._get_param("CustomRoleArn"))
    return json.dumps(result)


def _get_open_id_token(self) -> str:
    return json.dumps(_state().get_open_id_token(self._get_param("IdentityId"), self._get_param("Logins")))


def _set_identity_pool_roles(self) -> str:
    _state().set_roles(self._get_param("IdentityPoolId"), self._get_param("Roles"), self._get_param("RoleMappings"))
    return ""


def _get_identity_pool_roles(self) -> str:
    return json.dumps(_state().get_roles(self._get_param("IdentityPoolId")))


def _describe_identity(self) -> str:
    return json.dumps(_state().describe_identity(self._get_param("IdentityId")))


def _list_identities(self) -> str:
    state = _state()
    pool_id = self._get_param("IdentityPoolId")
    state._pool(pool_id)
    limit = int(self._get_param("MaxResults") or 60)
    identities = [state.describe_identity(i.identity_id) for i in state.identities.values() if i.pool_id == pool_id]
    return json.dumps({"IdentityPoolId": pool_id, "Identities": identities[:limit]})


def _sts_error_response(exc):
    import uuid

    from ..identity_pools import sts_error_body

    return sts_error_body(exc.code, exc.message, str(uuid.uuid4())), {"status": exc.status, "Content-Type": "text/xml"}


def _assume_role_with_web_identity(self):
    from ..identity_pools import PRINCIPAL, IdentityPoolError, IdentityPools

    token = self._get_param("WebIdentityToken") or ""
    if not IdentityPools.is_cognito_openid_token(token):
        return _originals["assume_role_with_web_identity"](self)   # other providers: moto as is
    duration = self._get_param("DurationSeconds")
    try:
        session, issued, claims = _state().assume_role_with_web_identity(
            self._get_param("RoleArn"), token, self._get_param("RoleSessionName"),
            int(duration) if duration is not None else None, self._get_param("Policy"))
    except IdentityPoolError as exc:
        return _sts_error_response(exc)
    return _moto()["ActionResult"]({
        "Credentials": {"AccessKeyId": session.access_key_id, "SecretAccessKey": session.secret_access_key,
                        "SessionToken": session.session_token,
                        "Expiration": datetime.fromtimestamp(issued.expiration, tz=timezone.utc)},
        "SubjectFromWebIdentityToken": claims["sub"],
        "AssumedRoleUser": {"AssumedRoleId": session.assumed_role_id, "Arn": session.assumed_role_arn},
        "Provider": PRINCIPAL,
        "Audience": claims["aud"],
    })


# -- install / uninstall ------------------------------------------------------------------------
def install(lab):
    """Patch moto for ``lab`` and register the authorization hook; return ``lab.identity_pools``."""
    global _lab
    from ..identity_pools import IdentityPools

    m = _moto()
    if _patcher.active:      # a lab that died without stopping
        uninstall()
    global _identity_state
    _lab = lab
    state = _identity_state = IdentityPools(lab, MotoBackend(lab))
    ci, sts = m["CognitoIdentityResponse"], m["TokenResponse"]
    _originals.clear()
    _originals["to_json"] = _patcher.replace(m["CognitoIdentityPool"], "to_json", _pool_to_json)
    for name, new in (("create_identity_pool", _create_identity_pool),
                      ("update_identity_pool", _update_identity_pool),
                      ("delete_identity_pool", _delete_identity_pool),
                      ("get_id", _get_id),
                      ("get_credentials_for_identity", _get_credentials_for_identity),
                      ("get_open_id_token", _get_open_id_token),
                      ("list_identities", _list_identities)):
        _originals[name] = _patcher.replace(ci, name, _identity_api(new))
    for name, new in (("set_identity_pool_roles", _set_identity_pool_roles),
                      ("get_identity_pool_roles", _get_identity_pool_roles),
                      ("describe_identity", _describe_identity)):
        _patcher.replace(ci, name, _identity_api(new), must_exist=False)
    _originals["assume_role_with_web_identity"] = _patcher.replace(
        sts, "assume_role_with_web_identity", _assume_role_with_web_identity)
    lab.add_request_hook(state.authorize)
    return state


def uninstall() -> None:
    """Put moto back as it was."""
    global _lab, _identity_state
    _patcher.undo()
    _identity_state = None
    _originals.clear()
    _lab = None
