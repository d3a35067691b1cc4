"""Our patches on moto's cognito-idp (user pools), written against moto 5.2.

What they change, and why (each line is a lesson raw moto would get wrong):

- ``CognitoIdpUser.password`` becomes a property: setting a password stores an SRP salt and
  verifier (v = g^x), never the plaintext; reading it gives an object that compares a candidate
  password against the verifier, so moto's own ``user.password != old`` checks keep working.
- The sign-in, sign-up, recovery, MFA and revocation actions are answered by
  :mod:`labkit.emulator.user_pools.flows` (real SRP, codes, TOTP, lifetimes, lockout, PreventUserExistenceErrors,
  ExplicitAuthFlows, SECRET_HASH). ``RevokeToken``, which moto lacks, is added.
- Every other action that takes an ``AccessToken`` first gets Cognito's checks: signature,
  expiry on the lab clock, revocation.
- Attributes (:mod:`labkit.emulator.user_pools.attributes`): only declared ones, ``sub`` and other
  immutable ones never updated, each app client's ReadAttributes / WriteAttributes (SignUp,
  UpdateUserAttributes, GetUser, ID-token claims), email / phone changes with verification codes
  (GetUserAttributeVerificationCode and VerifyUserAttribute, which moto lacks, are added).
- A request hook serves each pool's own JWKS and openid-configuration on the lab's endpoint.

Everything is undone by :func:`uninstall` when the lab stops.
"""
from __future__ import annotations

import inspect
import json
import re

from ._patcher import Patcher, require
from . import MotoInternalsChanged

_patcher = Patcher()
_state = None          # the running lab's IdpState

_WELL_KNOWN = re.compile(r"^/(?P<pool>[\w-]+_[0-9A-Za-z]+)/\.well-known/(?P<doc>jwks\.json|openid-configuration)$")

def _moto():
    from moto.cognitoidp import models, responses

    return models, responses


def check_internals() -> None:
    """Fail loudly if the moto internals these patches rely on have moved."""
    models, responses = _moto()
    R = responses.CognitoIdpResponse
    require(R, "call_action", "_get_action", "serialized", "sign_up", "admin_create_user",
            "create_user_pool_client", "update_user_pool_client", "get_user")
    require(models, "cognitoidp_backends", "CognitoIdpUser", "CognitoIdpUserPool", "UserStatus")
    require(models.CognitoIdpBackend, "_validate_password", "sign_up", "admin_create_user")
    require(models, "jwk", "load_resource")
    pool_init = inspect.getsource(models.CognitoIdpUserPool.__init__)
    for name in ("id", "clients", "users", "access_tokens", "id_tokens", "refresh_tokens", "mfa_config",
                 "sms_mfa_config", "token_mfa_config", "json_web_key", "schema_attributes"):
        if f"self.{name} " not in pool_init and f"self.{name}:" not in pool_init:
            raise MotoInternalsChanged(f"CognitoIdpUserPool.__init__ no longer sets self.{name}")
    if "jwk.RSAKey.import_key" not in pool_init:
        raise MotoInternalsChanged("CognitoIdpUserPool no longer loads its static key with jwk.RSAKey.import_key")
    require(models.CognitoIdpUserPool, "_get_user", "update_extended_config")
    user = models.CognitoIdpUser("us-east-1_probe", "probe", "Passw0rd!", models.UserStatus.CONFIRMED, [])
    require(user, "id", "username", "user_pool_id", "status", "enabled", "attribute_lookup", "groups",
            "software_token_mfa_enabled", "sms_mfa_enabled", "preferred_mfa_setting", "token_verified",
            "update_attributes", "delete_attributes", "password")
    # The attribute model reads moto's schema entries (labkit.emulator.user_pools.attributes).
    probe = models.CognitoIdpUserPoolAttribute("probe", True, {"AttributeDataType": "String"})
    require(probe, "name", "data_type", "mutable", "required", "developer_only", "string_constraints",
            "number_constraints")
    require(models.CognitoIdpUserPoolAttribute, "STANDARD_SCHEMA")
    # The password property needs username and user_pool_id set before password in __init__.
    src = inspect.getsource(models.CognitoIdpUser.__init__)
    if not (src.index("self.username") < src.index("self.password") and
            src.index("self.user_pool_id") < src.index("self.password")):
        raise MotoInternalsChanged("CognitoIdpUser.__init__ now sets password before username/user_pool_id")
    for status in ("UNCONFIRMED", "CONFIRMED", "FORCE_CHANGE_PASSWORD", "RESET_REQUIRED"):
        if status not in models.UserStatus.__members__:
            raise MotoInternalsChanged(f"moto's UserStatus lost {status}")


def public_jwks(lab, user_pool_id: str) -> dict:
    """The public JWKS of a user pool of this lab (what ``{endpoint}/{pool}/.well-known/jwks.json`` serves)."""
    state = lab.user_pools
    if user_pool_id not in _backend(lab).user_pools:
        raise KeyError(f"No user pool {user_pool_id!r} in this lab. Create it first with "
                       "lab.client('cognito-idp').create_user_pool(PoolName=…).")
    return state.keys.jwks(user_pool_id)


def _backend(lab):
    models, _ = _moto()
    return models.cognitoidp_backends[lab.account_id][lab.region]


class _NoStaticKey:
    """Stands in for joserfc's ``jwk`` module inside moto.cognitoidp.models while a lab runs."""

    class RSAKey:
        @staticmethod
        def import_key(*_args, **_kwargs):
            return None


# -- the password property ---------------------------------------------------------------------
class _PasswordCheck:
    """Stands where moto kept the plaintext password: compares a candidate against the verifier."""

    __slots__ = ("user",)

    def __init__(self, user) -> None:
        self.user = user

    def _matches(self, other) -> bool:
        from ..user_pools.flows import password_matches, find_pool

        pool = find_pool(_backend(_state.lab), self.user.user_pool_id)
        return password_matches(_state, pool, self.user, other)

    def __eq__(self, other) -> bool:
        return self._matches(other)

    def __ne__(self, other) -> bool:
        return not self._matches(other)

    __hash__ = None

    def __repr__(self) -> str:
        return "<SRP verifier: the lab keeps no plaintext password>"


def _get_password(user):
    key = (user.user_pool_id, user.username)
    return _PasswordCheck(user) if _state is not None and key in _state.srp_verifiers else None


def _set_password(user, password) -> None:
    from ..user_pools.flows import remember_password

    if _state is None:
        return
    if password is None:
        _state.srp_verifiers.pop((user.user_pool_id, user.username), None)
    else:
        remember_password(_state, user.user_pool_id, user.username, password)


# -- action handlers ---------------------------------------------------------------------------
def _params(response) -> dict:
    try:
        params = json.loads(response.body or "{}")
    except ValueError:
        params = {}
    return params if isinstance(params, dict) else {}


def _make_action(handler):
    from moto.core.responses import ActionResult

    def action(self):
        from .. import errors as E

        params = _params(self)
        with _state.lock:
            try:
                return ActionResult(handler(self, params, _backend(_state.lab)))
            except (TypeError, AttributeError, KeyError, ValueError) as exc:
                # A malformed request (a list where a string belongs, a missing field) gets
                # Cognito's 400, not a 500 with a traceback.
                raise E.invalid_parameter(f"The request is malformed ({type(exc).__name__}: {exc}).") from None
    action.__name__ = handler.__name__
    return action


def _validator(backend):
    return backend._validate_password


def _validate_password(backend, user_pool_id: str, password) -> None:
    """moto's check (max 98 characters, a typo'd generic message) replaced by Cognito's rules."""
    from ..user_pools import flows, policy

    policy.validate_password(flows.find_pool(backend, user_pool_id), password)


def _install_actions(lab) -> None:
    from .. import errors as E
    from ..user_pools import attribute_updates, attributes, flows

    _, responses = _moto()
    R = responses.CognitoIdpResponse
    originals = {name: getattr(R, name) for name in (
        "sign_up", "admin_create_user", "create_user_pool_client", "update_user_pool_client", "call_action",
        "get_user")}

    def initiate_auth(self, p, b):
        return flows.initiate_auth(_state, b, p)

    def admin_initiate_auth(self, p, b):
        return flows.initiate_auth(_state, b, p, admin_pool_id=p.get("UserPoolId"))

    def respond_to_auth_challenge(self, p, b):
        return flows.respond_to_auth_challenge(_state, b, p, _validator(b))

    def admin_respond_to_auth_challenge(self, p, b):
        return flows.respond_to_auth_challenge(_state, b, p, _validator(b), admin_pool_id=p.get("UserPoolId"))

    def sign_up(self, p, b):
        pool, client = flows.find_client(b, p.get("ClientId"))
        flows.check_secret_hash(client, p.get("Username"), p.get("SecretHash"))
        # the schema and the app client's WriteAttributes decide which attributes a user may give
        p["UserAttributes"] = attribute_updates.check_sign_up(b, pool, client, p)
        self.body = json.dumps(p)
        try:
            _passthrough(originals["sign_up"], self)   # moto validates and stores the user
        except E.CognitoError:
            raise
        except Exception as exc:      # moto's UsernameExistsException carries the bare username
            if getattr(exc, "error_type", "") == "UsernameExistsException":
                raise E.CognitoError("UsernameExistsException", "User already exists") from None
            raise
        return flows.after_sign_up(_state, pool, client, pool._get_user(p.get("Username")))

    def confirm_sign_up(self, p, b):
        return flows.confirm_sign_up(_state, b, p)

    def resend_confirmation_code(self, p, b):
        return flows.resend_confirmation_code(_state, b, p)

    def forgot_password(self, p, b):
        return flows.forgot_password(_state, b, p)

    def confirm_forgot_password(self, p, b):
        return flows.confirm_forgot_password(_state, b, p, _validator(b))

    def associate_software_token(self, p, b):
        return flows.associate_software_token(_state, b, p)

    def verify_software_token(self, p, b):
        return flows.verify_software_token(_state, b, p)

    def revoke_token(self, p, b):
        return flows.revoke_token(_state, b, p)

    def global_sign_out(self, p, b):
        record = flows.check_access_token(_state, b, p.get("AccessToken"))
        flows.sign_out_everywhere(_state, record.pool_id, record.username)
        return {}

    def admin_user_global_sign_out(self, p, b):
        pool = flows.find_pool(b, p.get("UserPoolId"))
        user = pool._get_user(p.get("Username"))
        if user is None:
            raise E.user_not_found()
        flows.sign_out_everywhere(_state, pool.id, user.username)
        return {}

    def admin_create_user(self, p, b):
        pool = flows.find_pool(b, p.get("UserPoolId"))
        if p.get("MessageAction") == "RESEND":
            return flows.resend_invitation(_state, pool, p)
        p["UserAttributes"] = attribute_updates.check_admin_create_user(b, pool, p)   # declared attributes only
        if not p.get("TemporaryPassword"):
            p["TemporaryPassword"] = flows.temporary_password(_state, pool)   # Cognito makes one up
        self.body = json.dumps(p)
        result = _passthrough(originals["admin_create_user"], self)
        flows.after_admin_create_user(_state, pool, pool._get_user(p.get("Username")), p)
        return result

    def create_user_pool_client(self, p, b):
        flows.validate_client_config(p)
        attributes.validate_client_attributes(flows.find_pool(b, p.get("UserPoolId")), p, updating=False)
        return _passthrough(originals["create_user_pool_client"], self)

    def update_user_pool_client(self, p, b):
        # UpdateUserPoolClient resets every setting the request leaves out to its default (a
        # classic pitfall: updating one field silently drops ExplicitAuthFlows). moto merges.
        flows.validate_client_config(p)
        attributes.validate_client_attributes(flows.find_pool(b, p.get("UserPoolId")), p, updating=True)
        client = flows.find_pool(b, p.get("UserPoolId")).clients.get(p.get("ClientId"))
        if client is not None:
            client.extended_config = {k: v for k, v in client.extended_config.items() if k == "ClientName"}
        return _passthrough(originals["update_user_pool_client"], self)

    # Attributes: the schema, each app client's ReadAttributes / WriteAttributes, verification.
    def update_user_attributes(self, p, b):
        return attribute_updates.update_user_attributes(_state, b, p)

    def admin_update_user_attributes(self, p, b):
        return attribute_updates.admin_update_user_attributes(_state, b, p)

    def delete_user_attributes(self, p, b):
        return attribute_updates.delete_user_attributes(_state, b, p)

    def admin_delete_user_attributes(self, p, b):
        return attribute_updates.admin_delete_user_attributes(_state, b, p)

    def get_user_attribute_verification_code(self, p, b):
        return attribute_updates.get_user_attribute_verification_code(_state, b, p)

    def verify_user_attribute(self, p, b):
        return attribute_updates.verify_user_attribute(_state, b, p)

    def get_user(self, p, b):
        flows.check_access_token(_state, b, p.get("AccessToken"))
        return attribute_updates.readable_user(_state, b, p, _passthrough(originals["get_user"], self))

    # The actions the lab answers itself (they check tokens their own way), by moto's method name.
    handlers = {
        "initiate_auth": initiate_auth, "admin_initiate_auth": admin_initiate_auth,
        "respond_to_auth_challenge": respond_to_auth_challenge,
        "admin_respond_to_auth_challenge": admin_respond_to_auth_challenge, "sign_up": sign_up,
        "confirm_sign_up": confirm_sign_up, "resend_confirmation_code": resend_confirmation_code,
        "forgot_password": forgot_password, "confirm_forgot_password": confirm_forgot_password,
        "associate_software_token": associate_software_token, "verify_software_token": verify_software_token,
        "revoke_token": revoke_token, "global_sign_out": global_sign_out,
        "admin_user_global_sign_out": admin_user_global_sign_out, "admin_create_user": admin_create_user,
        "create_user_pool_client": create_user_pool_client, "update_user_pool_client": update_user_pool_client,
        "update_user_attributes": update_user_attributes, "admin_update_user_attributes": admin_update_user_attributes,
        "delete_user_attributes": delete_user_attributes, "admin_delete_user_attributes": admin_delete_user_attributes,
        "get_user_attribute_verification_code": get_user_attribute_verification_code,
        "verify_user_attribute": verify_user_attribute, "get_user": get_user,
    }
    for name, handler in handlers.items():
        _patcher.replace(R, name, _make_action(handler), must_exist=False)

    def call_action(self):
        # Cognito checks the access token (signature, expiry, revocation) before the action runs.
        action = re.sub(r"(?<!^)(?=[A-Z])", "_", self._get_action() or "").lower()
        if action not in handlers:
            token = _params(self).get("AccessToken")
            if token is not None:
                with _state.lock:
                    flows.check_access_token(_state, _backend(_state.lab), token)
        try:
            return originals["call_action"](self)
        except NotImplementedError:
            # An action moto lacks: say so in Cognito's error shape instead of a 500 and a traceback.
            raise E.CognitoError("UnsupportedOperationException",
                                 f"The lab does not implement {self._get_action()} (moto {_moto_version()} "
                                 "lacks it). See README: where the lab differs from AWS.") from None

    _patcher.replace(R, "call_action", call_action, must_exist=False)


def _moto_version() -> str:
    from . import moto_version

    return moto_version()


def _passthrough(original, response):
    """Run moto's own action and hand back its parsed JSON body for ActionResult."""
    result = original(response)
    status, headers, body = response.serialized(result)
    return json.loads(body) if body else {}


# -- the JWKS / openid-configuration endpoints -------------------------------------------------
def _well_known_hook(request):
    if request.method != "GET":
        return None
    match = _WELL_KNOWN.match(request.path)
    if not match:
        return None
    from werkzeug.wrappers import Response

    lab = _state.lab
    pool_id = match["pool"]
    if pool_id not in _backend(lab).user_pools:
        body = {"__type": "ResourceNotFoundException", "message": f"User pool {pool_id} does not exist."}
        return Response(json.dumps(body), status=404, mimetype="application/json")
    if match["doc"] == "jwks.json":
        body = _state.keys.jwks(pool_id)
    else:
        issuer = lab.issuer(pool_id)
        body = {"issuer": issuer, "jwks_uri": lab.jwks_url(pool_id),
                "id_token_signing_alg_values_supported": ["RS256"],
                "subject_types_supported": ["public"], "response_types_supported": ["code", "token"],
                "scopes_supported": ["openid", "email", "phone", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "claims_supported": ["aud", "auth_time", "cognito:username", "email", "email_verified",
                                     "exp", "iat", "iss", "phone_number", "phone_number_verified", "sub",
                                     "token_use"]}
    return Response(json.dumps(body), status=200, mimetype="application/json")


# -- install / uninstall -----------------------------------------------------------------------
def install(lab) -> "IdpState":
    """Patch moto for ``lab``; return the lab's user-pool state (``lab.user_pools``)."""
    global _state
    from ..user_pools.state import IdpState

    models, _ = _moto()
    if _patcher.active:
        uninstall()
    _state = IdpState(lab)
    _patcher.replace(models.CognitoIdpUser, "password", property(_get_password, _set_password), must_exist=False)
    # moto loads the same static private key (kid "dummy") into every pool, ~0.1 s each; the lab
    # signs with per-pool keys and never uses it, so pools skip that work.
    _patcher.replace(models, "jwk", _NoStaticKey)
    _patcher.replace(models.CognitoIdpBackend, "_validate_password", _validate_password)
    _install_actions(lab)
    lab.add_request_hook(_well_known_hook)
    return _state


def uninstall() -> None:
    global _state
    _patcher.undo()
    _state = None
