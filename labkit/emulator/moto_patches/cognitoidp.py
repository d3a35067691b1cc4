"""Our patches on moto's cognito-idp (user pools), written against moto 5.2.

What they change, and why (each line is a lesson raw moto would get wrong):

- ``CognitoIdpUser.password`` becomes a property: setting a password stores an SRP salt and
  verifier (v = g^x), never the plaintext; reading it gives an object that compares a candidate
  password against the verifier, so moto's own ``user.password != old`` checks keep working.
- The sign-in, sign-up, recovery, MFA, revocation, ChangePassword and DeleteUser actions are answered by
  :mod:`labkit.emulator.user_pools.flows` (real SRP, codes, TOTP, lifetimes, lockout, PreventUserExistenceErrors,
  ExplicitAuthFlows, SECRET_HASH). ``RevokeToken``, ``DeleteUser`` and ``GetTokensFromRefreshToken``
  (with refresh-token rotation, :mod:`labkit.emulator.user_pools.rotation`), which moto lacks, are added.
- Every other action that takes an ``AccessToken`` first gets Cognito's checks: signature,
  expiry on the lab clock, revocation.
- Feature plans (``UserPoolTier``, :mod:`labkit.emulator.user_pools.plans`), choice-based sign-in
  (``USER_AUTH`` with passwords, one-time codes and passkeys, :mod:`labkit.emulator.user_pools.passwordless`)
  and the passkey actions moto lacks (Start/CompleteWebAuthnRegistration, List/DeleteWebAuthnCredential(s),
  :mod:`labkit.emulator.user_pools.passkeys`).
- Attributes (:mod:`labkit.emulator.user_pools.attributes`): only declared ones, ``sub`` and other
  immutable ones never updated, each app client's ReadAttributes / WriteAttributes (SignUp,
  UpdateUserAttributes, GetUser, ID-token claims), email / phone changes with verification codes
  (GetUserAttributeVerificationCode and VerifyUserAttribute, which moto lacks, are added).
- A request hook answers every ``/<anything>/.well-known/jwks.json`` and ``openid-configuration``
  path: the pool's own keys for a pool of this lab (GET, HEAD), 404 for any other pool id, 405 for
  any other method. moto's routes for those paths, which serve one static key whose private half
  ships inside moto, are replaced too, and moto's ``create_jwt`` (which signs with that key) refuses
  to run: a token signed with moto's key never verifies against a lab URL.

Everything is undone by :func:`uninstall` when the lab stops.
"""
from __future__ import annotations

import inspect
import json
import re

from ._patcher import Patcher, assigned_attributes, names_used, require, require_assigned
from . import MotoInternalsChanged

_patcher = Patcher()
_state = None          # the running lab's IdpState

# Any path that ends in /.well-known/jwks.json or /.well-known/openid-configuration (trailing
# slashes tolerated): everything before it is taken as the pool id, whatever its shape.
_WELL_KNOWN = re.compile(r"^/(?:(?P<pool>.*)/)?\.well-known/(?P<doc>jwks\.json|openid-configuration)/*$", re.DOTALL)
_WELL_KNOWN_METHODS = ("GET", "HEAD")
# moto's own routes for those documents (moto.cognitoidp.urls.url_paths), by the handler they name.
_MOTO_WELL_KNOWN_ROUTES = {
    "{0}/(?P<user_pool_id>[^/]+)/.well-known/jwks.json$": "serve_json_web_key",
    "{0}/(?P<user_pool_id>[^/]+)/.well-known/openid-configuration$": "serve_openid_configuration",
}

def _moto():
    from moto.cognitoidp import models, responses

    return models, responses


def _moto_urls():
    from moto.cognitoidp import urls

    return urls


def check_internals() -> None:
    """Fail loudly if the moto internals these patches rely on have moved."""
    models, responses = _moto()
    R = responses.CognitoIdpResponse
    require(R, "call_action", "_get_action", "serialized", "sign_up", "admin_create_user", "admin_delete_user",
            "admin_confirm_sign_up",
            "create_user_pool_client", "update_user_pool_client", "get_user", "change_password",
            "create_user_pool_domain", "delete_user_pool_domain", "describe_user_pool_domain", "delete_user_pool",
            "create_user_pool", "update_user_pool", "set_user_pool_mfa_config", "get_user_pool_mfa_config")
    # The OAuth settings read moto's domains, resource servers and client configs
    # (labkit.emulator.user_pools.oauth_settings).
    require_assigned(models.CognitoIdpBackend, "user_pool_domains")
    require_assigned(models.CognitoIdpUserPoolDomain, "user_pool_id", "domain")
    require_assigned(models.CognitoResourceServer, "identifier", "scopes")
    require(models, "cognitoidp_backends", "CognitoIdpUser", "CognitoIdpUserPool", "UserStatus", "CognitoIdpGroup")
    # federation.provider_group makes the IdP's group the way moto's create_group does
    if list(inspect.signature(models.CognitoIdpGroup.__init__).parameters)[1:] != [
            "user_pool_id", "group_name", "description", "role_arn", "precedence"]:
        raise MotoInternalsChanged("CognitoIdpGroup's constructor changed")
    require_assigned(models.CognitoIdpGroup, "users", "group_name", "precedence", "role_arn")
    require_assigned(models.CognitoIdpUserPool, "groups")
    require(models.CognitoIdpBackend, "_validate_password", "sign_up", "admin_create_user", "admin_delete_user")
    # labkit.emulator.user_pools.sign_up calls the backend's sign_up(client_id, username, password,
    # attributes) -> (user, code delivery details) directly (the API and the hosted UI share it)
    params = list(inspect.signature(models.CognitoIdpBackend.sign_up).parameters)
    if params[1:] != ["client_id", "username", "password", "attributes"]:
        raise MotoInternalsChanged(f"CognitoIdpBackend.sign_up now takes {params[1:]}")
    require(models, "jwk", "load_resource")
    require_assigned(models.CognitoIdpUserPool, "id", "clients", "users", "access_tokens", "id_tokens",
                     "refresh_tokens", "resource_servers", "mfa_config", "sms_mfa_config", "token_mfa_config", "json_web_key",
                     "schema_attributes")
    if not {"jwk", "RSAKey", "import_key"} <= names_used(models.CognitoIdpUserPool.__init__):
        raise MotoInternalsChanged("CognitoIdpUserPool no longer loads its static key with jwk.RSAKey.import_key")
    _check_static_key_routes(models, responses)
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
    order = assigned_attributes(models.CognitoIdpUser.__init__)
    if not all(name in order for name in ("username", "user_pool_id", "password")) or not (
            order.index("username") < order.index("password") > order.index("user_pool_id")):
        raise MotoInternalsChanged("CognitoIdpUser.__init__ now sets password before username/user_pool_id")
    # The user import jobs write their per-line results through moto's CloudWatch Logs backend.
    from moto.logs import models as logs_models
    require(logs_models, "logs_backends")
    require(logs_models.LogsBackend, "create_log_group", "create_log_stream", "put_log_events")
    require_assigned(logs_models.LogsBackend, "groups")
    for status in ("UNCONFIRMED", "CONFIRMED", "FORCE_CHANGE_PASSWORD", "RESET_REQUIRED"):
        if status not in models.UserStatus.__members__:
            raise MotoInternalsChanged(f"moto's UserStatus lost {status}")


def _check_static_key_routes(models, responses) -> None:
    """Where moto serves or uses its static key (kid "dummy") must be exactly where the patches look.

    moto ships the private half of that key, so anything that serves it (a JWKS route) or signs with
    it (``create_jwt``) would let anyone forge tokens that verify against the lab. A moto upgrade that
    adds, renames or moves such a place fails here instead of quietly serving the key again.
    """
    urls = _moto_urls()
    well_known = {path: getattr(handler, "__name__", repr(handler))
                  for path, handler in urls.url_paths.items() if ".well-known" in path}
    if well_known != _MOTO_WELL_KNOWN_ROUTES:
        raise MotoInternalsChanged(f"moto.cognitoidp.urls now routes .well-known paths as {well_known}; "
                                   f"the lab neutralises exactly {_MOTO_WELL_KNOWN_ROUTES}")
    require(responses.CognitoIdpJsonWebKeyResponse, "json_web_key", "serve_json_web_key")
    require(responses.CognitoIdpOpenIdConfigurationResponse, "serve_openid_configuration")
    require(models.CognitoIdpUserPool, "create_jwt")
    # Every place in moto.cognitoidp that loads the jwks resource files is one the lab has covered.
    for module, expected in ((models, 1), (responses, 1)):
        found = inspect.getsource(module).count("cognitoidp/resources/jwks-")
        if found != expected:
            raise MotoInternalsChanged(f"{module.__name__} loads moto's static JWKS {found} times "
                                       f"(the lab neutralises {expected}); check what the new one serves")


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
        # The request already passed labkit.emulator.validation (types, required members, model
        # constraints); anything still raised here is a lab bug, answered InternalErrorException.
        from ..user_pools import triggers

        params = _params(self)
        with _state.lock, triggers.calling(params):    # Lambda trigger events read ClientMetadata
            return ActionResult(handler(self, params, _backend(_state.lab)))
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
    from ..user_pools import (attribute_updates, attributes, custom_auth, flows, passkeys, passwordless,
                              plans)
    from ..user_pools import sign_up as sign_up_module

    _, responses = _moto()
    R = responses.CognitoIdpResponse
    from ..user_pools import triggers

    originals = {name: getattr(R, name) for name in (
        "sign_up", "admin_create_user", "admin_delete_user", "create_user_pool_client", "update_user_pool_client",
        "call_action", "get_user", "admin_confirm_sign_up", "create_user_pool_domain", "delete_user_pool_domain",
        "describe_user_pool_domain", "delete_user_pool", "create_identity_provider", "create_user_pool",
        "update_user_pool", "set_user_pool_mfa_config", "get_user_pool_mfa_config")}

    # CUSTOM_AUTH (the define / create / verify Lambda triggers) has a module of its own.
    def initiate_auth(self, p, b):
        if p.get("AuthFlow") == "CUSTOM_AUTH":
            return custom_auth.initiate_auth(_state, b, p)
        if p.get("AuthFlow") == "USER_AUTH":
            return passwordless.initiate_user_auth(_state, b, p)
        return flows.initiate_auth(_state, b, p)

    def admin_initiate_auth(self, p, b):
        if p.get("AuthFlow") == "CUSTOM_AUTH":
            return custom_auth.initiate_auth(_state, b, p, admin_pool_id=p.get("UserPoolId"))
        if p.get("AuthFlow") == "USER_AUTH":
            return passwordless.initiate_user_auth(_state, b, p, admin_pool_id=p.get("UserPoolId"))
        return flows.initiate_auth(_state, b, p, admin_pool_id=p.get("UserPoolId"))

    def respond_to_auth_challenge(self, p, b):
        if p.get("ChallengeName") == "CUSTOM_CHALLENGE":
            return custom_auth.respond_to_auth_challenge(_state, b, p)
        if p.get("ChallengeName") in passwordless.RESPONSES:
            return passwordless.respond(_state, b, p)
        return flows.respond_to_auth_challenge(_state, b, p, _validator(b))

    def admin_respond_to_auth_challenge(self, p, b):
        if p.get("ChallengeName") == "CUSTOM_CHALLENGE":
            return custom_auth.respond_to_auth_challenge(_state, b, p, admin_pool_id=p.get("UserPoolId"))
        if p.get("ChallengeName") in passwordless.RESPONSES:
            return passwordless.respond(_state, b, p, admin_pool_id=p.get("UserPoolId"))
        return flows.respond_to_auth_challenge(_state, b, p, _validator(b), admin_pool_id=p.get("UserPoolId"))

    # Feature plans (UserPoolTier) and what each unlocks (labkit.emulator.user_pools.plans).
    def create_user_pool(self, p, b):
        p.setdefault("UserPoolTier", plans.DEFAULT_PLAN)      # "Defaults to ESSENTIALS"
        plans.check_pool_config(p, p["UserPoolTier"])
        self.body = json.dumps(p)
        return _passthrough(originals["create_user_pool"], self)

    def update_user_pool(self, p, b):
        pool = flows.find_pool(b, p.get("UserPoolId"))
        # The lab's reading: a request without UserPoolTier keeps the pool's plan (a plan changes
        # what AWS bills; the other settings reset to their defaults as the reference says).
        p.setdefault("UserPoolTier", plans.pool_plan(pool))
        plans.check_pool_config(p, p["UserPoolTier"])
        self.body = json.dumps(p)
        originals["update_user_pool"](self)          # moto's answers nothing (None)
        return {}

    def set_user_pool_mfa_config(self, p, b):
        return passkeys.set_user_pool_mfa_config(_state, b, p, lambda: _passthrough(
            originals["set_user_pool_mfa_config"], self), self)

    def get_user_pool_mfa_config(self, p, b):
        result = _passthrough(originals["get_user_pool_mfa_config"], self)
        result.update(_state.mfa_extras.get(p.get("UserPoolId")) or {})
        return result

    # Passkeys (labkit.emulator.user_pools.passkeys): moto has none of these actions.
    def start_web_authn_registration(self, p, b):
        return passkeys.start_registration(_state, b, p)

    def complete_web_authn_registration(self, p, b):
        return passkeys.complete_registration(_state, b, p)

    def get_user_auth_factors(self, p, b):
        return passwordless.get_user_auth_factors(_state, b, p)

    def list_web_authn_credentials(self, p, b):
        return passkeys.list_credentials(_state, b, p)

    def delete_web_authn_credential(self, p, b):
        return passkeys.delete_credential(_state, b, p)

    def sign_up(self, p, b):
        # one SignUp for the API and the hosted UI's /signup page (labkit.emulator.user_pools.sign_up)
        return sign_up_module.sign_up(_state, b, p)

    def confirm_sign_up(self, p, b):
        result = flows.confirm_sign_up(_state, b, p)
        # With SignUp's Session, one that signs the user in with USER_AUTH (ConfirmSignUp reference).
        pool, client = flows.find_client(b, p.get("ClientId"))
        user = pool._get_user(p.get("Username"))
        session = passwordless.confirm_sign_up_session(_state, pool, client, user, p.get("Session")) if user else None
        return {**result, "Session": session} if session else result

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

    def get_tokens_from_refresh_token(self, p, b):
        return flows.get_tokens_from_refresh_token(_state, b, p)

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

    def delete_user(self, p, b):
        return flows.delete_user(_state, b, p)

    def admin_delete_user(self, p, b):
        pool = flows.find_pool(b, p.get("UserPoolId"))
        user = pool._get_user(p.get("Username"))
        result = _passthrough(originals["admin_delete_user"], self)
        if user is not None:
            flows.forget_user(_state, pool.id, user.username)
        return result

    def change_password(self, p, b):
        return flows.change_password(_state, b, p)

    def admin_confirm_sign_up(self, p, b):
        pool = flows.find_pool(b, p.get("UserPoolId"))
        result = _passthrough(originals["admin_confirm_sign_up"], self)
        user = pool._get_user(p.get("Username"))
        if user is not None:
            triggers.post_confirmation(_state, pool, user, "PostConfirmation_ConfirmSignUp")
        return result

    def admin_create_user(self, p, b):
        pool = flows.find_pool(b, p.get("UserPoolId"))
        if p.get("MessageAction") == "RESEND":
            return flows.resend_invitation(_state, pool, p)
        p["UserAttributes"] = attribute_updates.check_admin_create_user(b, pool, p)   # declared attributes only
        # "If you don't specify a value, Amazon Cognito generates one for you unless you have
        # passwordless options active for your user pool" (AdminCreateUser TemporaryPassword).
        passwordless_user = not p.get("TemporaryPassword") and passwordless.offers_passwordless(pool)
        if not p.get("TemporaryPassword"):
            p["TemporaryPassword"] = flows.temporary_password(_state, pool)   # moto needs one in any case
        self.body = json.dumps(p)
        if triggers.configured(pool, "PreSignUp") is not None:
            if pool._get_user(p.get("Username")) is not None:
                raise E.CognitoError("UsernameExistsException", "User account already exists")
            # Cognito ignores the response's auto-confirm / auto-verify flags for AdminCreateUser
            triggers.pre_sign_up(_state, pool, "PreSignUp_AdminCreateUser", p.get("Username"),
                                 triggers._attribute_map(p["UserAttributes"]) or {})
        result = _passthrough(originals["admin_create_user"], self)
        user = pool._get_user(p.get("Username"))
        if passwordless_user and user is not None:
            result["User"] = flows.make_passwordless(_state, pool, user)
            p["TemporaryPassword"] = None
        flows.after_admin_create_user(_state, pool, user, p)
        return result

    def create_user_pool_client(self, p, b):
        from ..user_pools import oauth_settings

        flows.validate_client_config(p)
        plans.check_client_config(flows.find_pool(b, p.get("UserPoolId")), p)
        attributes.validate_client_attributes(flows.find_pool(b, p.get("UserPoolId")), p, updating=False)
        oauth_settings.check_client_oauth(flows.find_pool(b, p.get("UserPoolId")), p,
                                          has_secret=bool(p.get("GenerateSecret")))
        result = _passthrough(originals["create_user_pool_client"], self)
        created = result.get("UserPoolClient", {})
        if "ClientSecret" in created:   # moto's is a UUID, which the model's pattern [\w+]+ refuses
            client = flows.find_pool(b, p.get("UserPoolId")).clients[created["ClientId"]]
            client.secret = created["ClientSecret"] = _client_secret(_state.lab)
        return result

    def update_user_pool_client(self, p, b):
        # UpdateUserPoolClient resets every setting the request leaves out to its default (a
        # classic pitfall: updating one field silently drops ExplicitAuthFlows). moto merges.
        from ..user_pools import oauth_settings

        flows.validate_client_config(p)
        plans.check_client_config(flows.find_pool(b, p.get("UserPoolId")), p)
        attributes.validate_client_attributes(flows.find_pool(b, p.get("UserPoolId")), p, updating=True)
        client = flows.find_pool(b, p.get("UserPoolId")).clients.get(p.get("ClientId"))
        if client is not None:
            oauth_settings.check_client_oauth(flows.find_pool(b, p.get("UserPoolId")), p,
                                              has_secret=bool(client.generate_secret))
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

    # Domains: one per pool, unique prefixes, deleted by the pool that owns them.
    def create_user_pool_domain(self, p, b):
        from ..user_pools import oauth_settings

        oauth_settings.check_create_domain(b, p)
        return _passthrough(originals["create_user_pool_domain"], self)

    def delete_user_pool_domain(self, p, b):
        from ..user_pools import oauth_settings

        oauth_settings.check_delete_domain(b, p)
        return _passthrough(originals["delete_user_pool_domain"], self)

    def delete_user_pool(self, p, b):
        from ..user_pools import oauth_settings

        oauth_settings.check_delete_pool(b, p)
        return _passthrough(originals["delete_user_pool"], self)

    def describe_user_pool_domain(self, p, b):
        result = _passthrough(originals["describe_user_pool_domain"], self)
        if result.get("DomainDescription"):       # moto puts a random UUID where the account id goes
            result["DomainDescription"]["AWSAccountId"] = _state.lab.account_id
        return result

    def create_identity_provider(self, p, b):
        from ..user_pools import federation

        federation.check_create_identity_provider(b, p)
        result = _passthrough(originals["create_identity_provider"], self)
        federation.provider_group(flows.find_pool(b, p.get("UserPoolId")), p.get("ProviderName"))
        return result

    # Bulk import from a CSV file (labkit.emulator.user_pools.imports), which moto lacks.
    from ..user_pools import imports

    def get_csv_header(self, p, b):
        return imports.get_csv_header(_state, b, p)

    def create_user_import_job(self, p, b):
        return imports.create_user_import_job(_state, b, p)

    def start_user_import_job(self, p, b):
        return imports.start_user_import_job(_state, b, p)

    def stop_user_import_job(self, p, b):
        return imports.stop_user_import_job(_state, b, p)

    def describe_user_import_job(self, p, b):
        return imports.describe_user_import_job(_state, b, p)

    def list_user_import_jobs(self, p, b):
        return imports.list_user_import_jobs(_state, b, p)

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
        "revoke_token": revoke_token, "get_tokens_from_refresh_token": get_tokens_from_refresh_token,
        "global_sign_out": global_sign_out,
        "admin_user_global_sign_out": admin_user_global_sign_out, "admin_create_user": admin_create_user,
        "create_user_pool_client": create_user_pool_client, "update_user_pool_client": update_user_pool_client,
        "delete_user": delete_user, "admin_delete_user": admin_delete_user, "change_password": change_password,
        "admin_confirm_sign_up": admin_confirm_sign_up,
        "update_user_attributes": update_user_attributes, "admin_update_user_attributes": admin_update_user_attributes,
        "delete_user_attributes": delete_user_attributes, "admin_delete_user_attributes": admin_delete_user_attributes,
        "get_user_attribute_verification_code": get_user_attribute_verification_code,
        "verify_user_attribute": verify_user_attribute, "get_user": get_user,
        "create_user_pool_domain": create_user_pool_domain, "delete_user_pool_domain": delete_user_pool_domain,
        "describe_user_pool_domain": describe_user_pool_domain, "delete_user_pool": delete_user_pool,
        "create_identity_provider": create_identity_provider,
        "create_user_pool": create_user_pool, "update_user_pool": update_user_pool,
        "set_user_pool_mfa_config": set_user_pool_mfa_config, "get_user_pool_mfa_config": get_user_pool_mfa_config,
        "start_web_authn_registration": start_web_authn_registration,
        "complete_web_authn_registration": complete_web_authn_registration,
        "list_web_authn_credentials": list_web_authn_credentials, "get_user_auth_factors": get_user_auth_factors,
        "delete_web_authn_credential": delete_web_authn_credential,
        "get_csv_header": get_csv_header, "create_user_import_job": create_user_import_job,
        "start_user_import_job": start_user_import_job, "stop_user_import_job": stop_user_import_job,
        "describe_user_import_job": describe_user_import_job, "list_user_import_jobs": list_user_import_jobs,
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


def _client_secret(lab) -> str:
    """An app-client secret shaped like Cognito's: lowercase letters and digits (51 of them)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[lab.rng.randrange(len(alphabet))] for _ in range(51))


def _moto_version() -> str:
    from . import moto_version

    return moto_version()


def _passthrough(original, response):
    """Run moto's own action and hand back its parsed JSON body for ActionResult."""
    result = original(response)
    status, headers, body = response.serialized(result)
    return json.loads(body) if body else {}


# -- the JWKS / openid-configuration endpoints -------------------------------------------------
def _json(status: int, body: dict, headers: dict | None = None) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


def well_known_answer(method: str, path: str) -> tuple[int, dict, bytes] | None:
    """What the lab answers for ``method path`` if it is a JWKS / openid-configuration path, else None.

    A pool of this lab: its own keys or discovery document (GET, HEAD); 405 with ``Allow: GET, HEAD``
    for any other method (the document exists, the method does not apply; nothing of a key is
    sent). Any other pool id, whatever its shape: 404 ResourceNotFoundException, for every method.
    """
    match = _WELL_KNOWN.match(path or "")
    if not match:
        return None
    lab = _state.lab
    pool_id = match["pool"]
    if not pool_id:
        return _json(404, {"__type": "ResourceNotFoundException",
                           "message": f"No user pool id in the path: use /<pool id>/.well-known/{match['doc']}."})
    if pool_id not in _backend(lab).user_pools:
        return _json(404, {"__type": "ResourceNotFoundException", "message": f"User pool {pool_id} does not exist."})
    if method not in _WELL_KNOWN_METHODS:
        return _json(405, {"__type": "MethodNotAllowedException",
                           "message": f"{method} is not supported here: the pool's {match['doc']} is read with GET."},
                     {"Allow": ", ".join(_WELL_KNOWN_METHODS)})
    if match["doc"] == "jwks.json":
        return _json(200, _state.keys.jwks(pool_id))
    from ..user_pools import oauth_settings

    domain = oauth_settings.pool_domain(_backend(lab), pool_id)
    # With a domain, the pool's authorization server endpoints (served by the lab under /_domain/).
    served = oauth_settings.endpoints(lab.endpoint_url, domain) if domain else {}
    return _json(200, {
        **served,
        "issuer": lab.issuer(pool_id), "jwks_uri": lab.jwks_url(pool_id),
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"], "response_types_supported": ["code", "token"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": ["aud", "auth_time", "cognito:username", "email", "email_verified",
                             "exp", "iat", "iss", "phone_number", "phone_number_verified", "sub",
                             "token_use"]})


def _well_known_hook(request):
    answer = well_known_answer(request.method, request.path)
    if answer is None:
        return None
    from werkzeug.wrappers import Response

    status, headers, body = answer
    return Response(body, status=status, headers=headers)   # werkzeug drops the body for HEAD


def _domain_hook(request):
    """The hosted UI and OAuth 2.0 endpoints under ``/_domain/<domain>/``: their code (and Authlib)
    is imported on the first such request, so a lab that never uses them starts no slower."""
    if not request.path.startswith("/_domain/"):
        return None
    from ..user_pools import hosted_ui

    return hosted_ui.handle(_state, _backend(_state.lab), request)


def _import_upload_hook(request):
    """The user import jobs' pre-signed URLs (``PUT /_import/<job id>?…``), served on the lab's port."""
    if not request.path.startswith("/_import/"):
        return None
    from ..user_pools import imports

    return imports.upload_answer(_state, request)


def _moto_well_known_route(request, full_url, headers):
    """Stands in for moto's static-key routes: the same answer as the hook, never moto's key."""
    from urllib.parse import unquote, urlparse

    path = getattr(request, "path", None) or unquote(urlparse(full_url).path)
    return well_known_answer(getattr(request, "method", "GET"), path) or _json(
        404, {"__type": "ResourceNotFoundException", "message": "Not found."})


def _refuse_static_key(self, *args, **kwargs):
    """moto's ``create_jwt`` signs with its static key: the lab mints every token itself."""
    from .. import errors as E

    raise E.CognitoError("UnsupportedOperationException",
                         "moto tried to sign a token with its static key; the lab signs tokens with each "
                         "pool's own key and does not let moto's key be used.")


def _neutralise_static_key(models, responses) -> None:
    urls = _moto_urls()
    for path, handler_name in _MOTO_WELL_KNOWN_ROUTES.items():
        _patcher.replace_item(urls.url_paths, path, _named(_moto_well_known_route, handler_name))
    _patcher.replace(responses.CognitoIdpJsonWebKeyResponse, "json_web_key", json.dumps({"keys": []}).encode())
    _patcher.replace(models.CognitoIdpUserPool, "create_jwt", _refuse_static_key)
    # moto loads the same static private key (kid "dummy") into every pool, ~0.1 s each; the lab
    # signs with per-pool keys and never uses it, so pools skip that work and hold no key at all.
    _patcher.replace(models, "jwk", _NoStaticKey)


def _named(function, name: str):
    """A copy of ``function`` under moto's handler name (moto's Flask app names endpoints after it)."""
    def route(request, full_url, headers):
        return function(request, full_url, headers)
    route.__name__ = route.__qualname__ = name
    return route


#: Settings CreateUserPool fixes for good: UpdateUserPool has no parameter for them.
CREATION_ONLY = ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration", "Schema")


def _keep_creation_only_settings(models) -> None:
    """moto's UpdateUserPool replaces the whole configuration, so a pool whose users sign in with
    their email forgot it at the first update. Cognito keeps what only CreateUserPool can set
    (UpdateUserPool resets the *updatable* settings you leave out, and the lab keeps that)."""
    original = models.CognitoIdpUserPool.update_extended_config

    def update_extended_config(pool, extended_config):
        kept = {k: pool.extended_config[k] for k in CREATION_ONLY if k in getattr(pool, "extended_config", {})}
        original(pool, extended_config)
        pool.extended_config.update(kept)

    _patcher.replace(models.CognitoIdpUserPool, "update_extended_config", update_extended_config)


# -- who a request is about (lab.cloudtrail records the sub, never the user name) ---------------
def sub_for_request(params: dict, action: str) -> str | None:
    """The ``sub`` of the user a cognito-idp request names (Username, AuthParameters.USERNAME,
    ChallengeResponses.USERNAME or an AccessToken's ``sub``), if that user exists; else None."""
    if _state is None or not isinstance(params, dict):
        return None
    try:
        token = params.get("AccessToken")
        if isinstance(token, str) and token.count(".") == 2:
            import base64

            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return claims.get("sub") if isinstance(claims, dict) else None
        username = params.get("Username")
        for holder in ("AuthParameters", "ChallengeResponses"):
            if username is None and isinstance(params.get(holder), dict):
                username = params[holder].get("USERNAME")
        if not isinstance(username, str) or not username:
            return None
        backend = _backend(_state.lab)
        pool = backend.user_pools.get(params.get("UserPoolId") or "")
        if pool is None and isinstance(params.get("ClientId"), str):
            pool = next((p for p in backend.user_pools.values() if params["ClientId"] in p.clients), None)
        if pool is None:
            return None
        user = pool._get_user(username)
        return user.attribute_lookup.get("sub") if user is not None else None
    except Exception:        # a request the lab will refuse anyway: nothing to say about its user
        return None


# -- install / uninstall -----------------------------------------------------------------------
def install(lab) -> "IdpState":
    """Patch moto for ``lab``; return the lab's user-pool state (``lab.user_pools``)."""
    global _state
    from ..user_pools.state import IdpState

    models, responses = _moto()
    if _patcher.active:
        uninstall()
    _state = IdpState(lab)
    _patcher.replace(models.CognitoIdpUser, "password", property(_get_password, _set_password), must_exist=False)
    _neutralise_static_key(models, responses)
    _patcher.replace(models.CognitoIdpBackend, "_validate_password", _validate_password)
    _keep_creation_only_settings(models)
    _install_actions(lab)
    lab.add_request_hook(_well_known_hook)
    lab.add_request_hook(_domain_hook)
    lab.add_request_hook(_import_upload_hook)
    return _state


def uninstall() -> None:
    global _state
    _patcher.undo()
    _state = None
