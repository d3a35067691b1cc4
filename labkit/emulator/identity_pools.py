"""Identity pools that really scope AWS access: the lab's model of Amazon Cognito federated identities.

An identity pool turns a sign-in into short-lived AWS credentials::

    user pool ID token ──GetId──▶ identity id ──GetCredentialsForIdentity──▶ AccessKeyId/SecretKey/SessionToken
                                   "us-east-1:<uuid>"                          for ONE IAM role, valid 1 hour

and IAM then decides what those credentials may do. This module does what Cognito and IAM do at
each step, on the lab clock:

* **Logins are checked.** Every ``Logins`` entry ``{"cognito-idp.{region}.amazonaws.com/{pool}":
  id_token}`` must be an ID token signed by that user pool's keys, with ``iss`` = the provider,
  ``aud`` = an app client configured on the identity pool, and not expired. Otherwise
  ``NotAuthorizedException`` ("Invalid login token. …" and friends, worded as Cognito words them).
* **Guests only if allowed.** No ``Logins`` and ``AllowUnauthenticatedIdentities`` false:
  ``NotAuthorizedException: Unauthenticated access is not supported for this identity pool.``
* **One identity per login.** The same user (``sub``) always gets the same identity id.
* **A role is chosen** (:func:`resolve_role`): the pool's authenticated or unauthenticated role,
  or a role mapping (``Token``: ``cognito:preferred_role`` / ``cognito:roles`` from the ID token;
  ``Rules``: the first matching claim rule), with ``AmbiguousRoleResolution`` deciding otherwise.
* **The role must trust the pool.** Its trust policy must allow ``sts:AssumeRoleWithWebIdentity``
  by ``cognito-identity.amazonaws.com`` for this pool (``cognito-identity.amazonaws.com:aud``) and
  kind of identity (``…:amr``), else ``InvalidIdentityPoolConfigurationException``.
* **Requests are authorized** (:meth:`IdentityPools.authorize`): S3 and DynamoDB calls signed with
  credentials handed out here are evaluated against the role's policies by :mod:`labkit.emulator.iam`,
  with ``${cognito-identity.amazonaws.com:sub}`` = the identity id. A refusal comes back as the
  service's real AccessDenied; credentials past their ``Expiration`` get ``ExpiredToken``.
* **Guests are scoped down.** Credentials that GetCredentialsForIdentity (the enhanced flow) hands
  to an unauthenticated identity carry Cognito's scope-down session policy
  (:data:`GUEST_SCOPE_DOWN_POLICY`): whatever the guest role allows, they reach only the services
  the developer guide lists. The basic (classic) flow applies no scope-down.

The moto-specific glue (where pools, roles and STS keys live) is in
:mod:`labkit.emulator.moto_patches.cognitoidentity`; this module sees moto only through the small
:class:`Backend` interface, so the rules above read as plain Python.
"""
from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Protocol
from urllib.parse import parse_qs, unquote

import jwt

from . import iam
from .keys import new_rsa_key, public_jwk

__all__ = ["IdentityPoolError", "IdentityPools", "Identity", "IssuedCredentials", "Login", "resolve_role",
           "trust_policy", "OPENID_ISSUER", "PRINCIPAL", "CREDENTIALS_LIFETIME", "OPENID_TOKEN_LIFETIME",
           "GUEST_SCOPE_DOWN_POLICY", "guest_scope_down_allows", "guest_scope_down_services"]

#: ``iss`` of the OpenID tokens identity pools issue (GetOpenIdToken).
OPENID_ISSUER = "https://cognito-identity.amazonaws.com"
#: The federated principal that role trust policies name.
PRINCIPAL = "cognito-identity.amazonaws.com"
#: GetCredentialsForIdentity credentials live one hour.
CREDENTIALS_LIFETIME = 3600
#: GetOpenIdToken tokens live ten minutes.
OPENID_TOKEN_LIFETIME = 600
#: The role session name Cognito uses for the enhanced flow (it shows in the assumed-role ARN).
SESSION_NAME = "CognitoIdentityCredentials"

#: The scope-down policy Cognito adds, as a session policy, to the credentials of unauthenticated
#: identities in the enhanced flow: the effective permissions are the guest role's policies
#: intersected with it. Written from the developer guide's list of the services guests can still
#: reach ("IAM roles", Access policies: https://docs.aws.amazon.com/cognito/latest/developerguide/iam-roles.html),
#: with its restricted services (KMS, SageMaker, Textract, Sumerian) limited to the actions it
#: names, and the actions of the AWS managed session policy AmazonCognitoUnAuthedIdentitiesSessionPolicy
#: (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonCognitoUnAuthedIdentitiesSessionPolicy.html).
GUEST_SCOPE_DOWN_POLICY: dict = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "CognitoGuestScopeDown",
        "Effect": "Allow",
        "Action": [
            # whole services
            "appsync:*", "cloudwatch:*", "logs:*", "cognito-identity:*", "cognito-sync:*", "comprehend:*",
            "dynamodb:*", "gamelift:*", "iot:*", "firehose:*", "kinesis:*", "lambda:*", "lex:*",
            "machinelearning:*", "mobileanalytics:*", "mobiletargeting:*", "personalize:*", "polly:*",
            "rekognition:*", "sdb:*", "ses:*", "sns:*", "sqs:*", "s3:*", "transcribe:*", "translate:*",
            # services with only some actions
            "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
            "sagemaker:InvokeEndpoint", "textract:DetectDocumentText", "textract:AnalyzeDocument",
            "sumerian:View*", "rum:PutRumEvents",
            "geo:GetMap*", "geo:SearchPlaceIndex*", "geo:GetPlace", "geo:CalculateRoute*", "geo:*Geofence",
            "geo:*Geofences", "geo:*DevicePosition*",
        ],
        "Resource": "*",
    }],
}

# Signing names that differ from the IAM service prefix.
_IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "execute-api": "execute-api"}


def guest_scope_down_allows(action: str) -> bool:
    """Whether the guest scope-down policy lets ``action`` (``"s3:GetObject"``) through at all.

    It never grants anything by itself: the guest role's policies must allow the action too.
    """
    return iam.evaluate([GUEST_SCOPE_DOWN_POLICY], action, "*", {}, policy_kind="session").allowed


def guest_scope_down_services() -> list[str]:
    """The IAM service prefixes guests can still reach in the enhanced flow (some only in part)."""
    return sorted({action.split(":", 1)[0] for action in GUEST_SCOPE_DOWN_POLICY["Statement"][0]["Action"]})


_PROVIDER = re.compile(r"^cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<pool>[\w-]+_[0-9A-Za-z]+)$")
_MATCH_TYPES = ("Equals", "Contains", "StartsWith", "NotEqual")

# Cognito's own words (as its API returns them).
MSG_UNAUTH_NOT_SUPPORTED = "Unauthenticated access is not supported for this identity pool."
MSG_NOT_SUPPORTED_PROVIDER = "Token is not from a supported provider of this identity pool."
MSG_BAD_SIGNATURE = "Invalid login token. Couldn't verify signed token."
MSG_NOT_A_TOKEN = "Invalid login token. Not a valid OpenId Connect identity token."
MSG_WRONG_ISSUER = "Invalid login token. Issuer doesn't match providerName"
MSG_LOGINS_DONT_MATCH = "Logins don't match. Please include at least one valid login for this identity or identity pool."
MSG_BAD_POOL_CONFIG = "Invalid identity pool configuration. Check assigned IAM roles for this pool."
MSG_CLASSIC_DISABLED = "Basic (classic) flow is not enabled, please use enhanced flow."


class IdentityPoolError(Exception):
    """An error in AWS's words: ``code`` is the exception name boto3 shows, ``message`` its text.

    ``status`` is the HTTP status; ``service`` says which API answers ("cognito-identity" or "sts").
    """

    def __init__(self, code: str, message: str, *, status: int = 400, service: str = "cognito-identity") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.service = service


def _not_authorized(message: str) -> IdentityPoolError:
    return IdentityPoolError("NotAuthorizedException", message)


def _invalid_parameter(message: str) -> IdentityPoolError:
    return IdentityPoolError("InvalidParameterException", message)


def _not_found(message: str) -> IdentityPoolError:
    return IdentityPoolError("ResourceNotFoundException", message)


def _bad_config() -> IdentityPoolError:
    return IdentityPoolError("InvalidIdentityPoolConfigurationException", MSG_BAD_POOL_CONFIG)


# -- what the lab needs from moto ---------------------------------------------------------------
@dataclass
class Role:
    """An IAM role as the identity pool sees it."""

    arn: str
    role_id: str
    trust_policy: dict
    policies: list[dict]   # inline and attached managed policies (default versions)


@dataclass
class StsSession:
    """Temporary credentials STS (moto) created for an assumed role."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    assumed_role_arn: str
    assumed_role_id: str


class Backend(Protocol):
    """Where identity pools, IAM roles and STS credentials live (moto, via the glue module)."""

    def pool(self, pool_id: str) -> dict | None: ...                       # DescribeIdentityPool shape
    def role(self, role_arn: str) -> Role | None: ...
    def issue(self, role_arn: str, session_name: str, expiration: datetime) -> StsSession: ...
    def hash_key(self, table_name: str) -> str | None: ...
    def bucket_policy(self, bucket: str) -> dict | None: ...


# -- the model ---------------------------------------------------------------------------------
@dataclass
class Login:
    """A verified ``Logins`` entry: the provider name, the app client it was issued to, its claims."""

    provider: str
    client_id: str
    claims: dict

    @property
    def sub(self) -> str:
        return self.claims["sub"]


@dataclass
class Identity:
    """One identity in one identity pool: a guest, or linked to one or more logins."""

    identity_id: str
    pool_id: str
    logins: dict[str, str] = field(default_factory=dict)   # provider -> sub
    created: float = 0.0
    modified: float = 0.0

    @property
    def authenticated(self) -> bool:
        return bool(self.logins)


@dataclass
class IssuedCredentials:
    """Credentials the identity pool (or STS, in the classic flow) handed out, tracked by access key id."""

    access_key_id: str
    role_arn: str
    assumed_role_arn: str
    assumed_role_id: str
    identity_id: str
    pool_id: str
    amr: list[str]
    expiration: float                 # epoch seconds on the lab clock
    session_policy: dict | None = None
    region: str = "us-east-1"
    scoped_down: bool = False         # a guest of the enhanced flow: Cognito's scope-down applies

    @property
    def authenticated(self) -> bool:
        return "authenticated" in self.amr


def trust_policy(identity_pool_id: str, amr: str = "authenticated") -> dict:
    """The trust policy a role needs to be handed out by ``identity_pool_id`` to ``amr`` identities.

    ``amr`` is ``"authenticated"`` (signed-in users) or ``"unauthenticated"`` (guests). This is the
    policy the Cognito console writes, and what the lab checks when it issues credentials.
    """
    if amr not in ("authenticated", "unauthenticated"):
        raise ValueError('amr is "authenticated" or "unauthenticated"')
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": PRINCIPAL},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"cognito-identity.amazonaws.com:aud": identity_pool_id},
                "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": amr},
            },
        }],
    }


def _claim_values(claims: dict, name: str) -> list[str] | None:
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value) if not isinstance(value, bool) else str(value).lower()]


def _rule_matches(rule: dict, claims: dict) -> bool:
    """One Rules-type mapping rule. List claims (``cognito:groups``) match if any element does."""
    values = _claim_values(claims, rule["Claim"])
    wanted = rule["Value"]
    match_type = rule["MatchType"]
    if values is None:
        return False        # a rule whose claim is absent is not evaluated (NotEqual included)
    if match_type == "Equals":
        return wanted in values
    if match_type == "NotEqual":
        return wanted not in values
    if match_type == "Contains":
        return any(wanted in v for v in values)
    if match_type == "StartsWith":
        return any(v.startswith(wanted) for v in values)
    return False


def _roles_claim(claims: dict) -> list[str]:
    roles = claims.get("cognito:roles")
    if roles is None:
        return []
    if isinstance(roles, str):     # the developer guide describes a comma-separated string
        return [r.strip() for r in roles.split(",") if r.strip()]
    return [str(r) for r in roles]


def resolve_role(pool_roles: dict, login: Login | None, custom_role_arn: str | None = None) -> str:
    """The role ARN GetCredentialsForIdentity hands out, as Cognito chooses it.

    ``pool_roles`` is what GetIdentityPoolRoles returns (``Roles`` and ``RoleMappings``);
    ``login`` is ``None`` for a guest. Raises :class:`IdentityPoolError` when Cognito would.
    """
    roles = pool_roles.get("Roles") or {}
    if login is None:
        if not roles.get("unauthenticated"):
            raise _bad_config()
        return roles["unauthenticated"]

    mappings = pool_roles.get("RoleMappings") or {}
    key = f"{login.provider}:{login.client_id}"
    mapping = mappings.get(key) or mappings.get(login.provider)
    if mapping is None:
        if not roles.get("authenticated"):
            raise _bad_config()
        return roles["authenticated"]
    mapping_name = key if key in mappings else login.provider

    def ambiguous() -> str:
        if mapping.get("AmbiguousRoleResolution") == "AuthenticatedRole":
            if not roles.get("authenticated"):
                raise _bad_config()
            return roles["authenticated"]
        raise _not_authorized(f"The ambiguous role mapping rules for: {mapping_name} denied this request.")

    if mapping.get("Type") == "Token":
        allowed = _roles_claim(login.claims)
        if custom_role_arn:
            if custom_role_arn in allowed:
                return custom_role_arn
            raise _not_authorized(f"The role {custom_role_arn} is not in the cognito:roles claim of the token.")
        preferred = login.claims.get("cognito:preferred_role")
        if preferred:
            return str(preferred)
        if len(set(allowed)) == 1:      # one role in cognito:roles is unambiguous
            return next(iter(allowed))
        return ambiguous()

    if mapping.get("Type") == "Rules":
        rules = (mapping.get("RulesConfiguration") or {}).get("Rules") or []
        matching = [rule["RoleARN"] for rule in rules if _rule_matches(rule, login.claims)]
        if custom_role_arn:
            if custom_role_arn in matching:
                return custom_role_arn
            raise _not_authorized(f"The role {custom_role_arn} does not match any role mapping rule for this user.")
        if matching:
            return matching[0]
        return ambiguous()
    return ambiguous()


# -- the identity pools of one lab ----------------------------------------------------------------
class IdentityPools:
    """The lab's identity-pool state and rules (``lab.identity_pools``).

    Holds what moto lacks: role configuration (Set/GetIdentityPoolRoles), ``AllowClassicFlow``,
    which login owns which identity, and every credential handed out (by access key id), which the
    request hook uses to authorize S3 and DynamoDB calls.
    """

    def __init__(self, lab, backend: Backend) -> None:
        self.lab = lab
        self.backend = backend
        self.roles: dict[str, dict] = {}                       # pool id -> {"Roles", "RoleMappings"}
        self.classic_flow: dict[str, bool] = {}                # pool id -> AllowClassicFlow
        self.identities: dict[str, Identity] = {}
        self.by_login: dict[tuple[str, str, str], str] = {}    # (pool, provider, sub) -> identity id
        self.issued: dict[str, IssuedCredentials] = {}
        self._lock = threading.RLock()
        self._openid_key = None
        self._openid_kid = None

    # -- helpers ------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.lab.clock.time()

    def _pool(self, pool_id: str) -> dict:
        pool = self.backend.pool(pool_id) if pool_id else None
        if pool is None:
            raise _not_found(f"IdentityPool '{pool_id}' not found.")
        return pool

    def _identity(self, identity_id: str) -> Identity:
        identity = self.identities.get(identity_id or "")
        if identity is None:
            raise _not_found(f"Identity '{identity_id}' not found.")
        return identity

    def _new_identity_id(self, pool_id: str) -> str:
        region = pool_id.split(":", 1)[0]
        while True:
            candidate = f"{region}:{uuid.UUID(int=self.lab.rng.getrandbits(128), version=4)}"
            if candidate not in self.identities:
                return candidate

    # -- logins -------------------------------------------------------------------------------
    def verify_login(self, pool: dict, provider: str, token: str) -> Login:
        """Check one ``Logins`` entry as Cognito does; return the verified login or raise."""
        configured = [p for p in pool.get("CognitoIdentityProviders") or [] if p.get("ProviderName") == provider]
        match = _PROVIDER.match(provider or "")
        if not configured or match is None:
            raise _not_authorized(MSG_NOT_SUPPORTED_PROVIDER)
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _not_authorized(MSG_NOT_A_TOKEN) from None
        # Cognito reads the issuer first (it says where the signing keys are), then checks the signature.
        if unverified.get("iss") != f"https://{provider}":
            raise _not_authorized(MSG_WRONG_ISSUER)
        try:
            jwks = self.lab.user_pool_jwks(match.group("pool"))
            key = jwt.PyJWKSet.from_dict(jwks)[header.get("kid", "")]
        except Exception:   # unknown pool, unknown kid, unusable key: the signature can't be checked
            raise _not_authorized(MSG_BAD_SIGNATURE) from None
        client_ids = [p.get("ClientId") for p in configured if p.get("ClientId")]
        try:
            claims = jwt.decode(
                token, key=key, algorithms=["RS256"], issuer=f"https://{provider}", audience=client_ids or None,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                         "verify_aud": bool(client_ids), "require": ["iss", "sub", "aud", "exp"]})
        except jwt.InvalidSignatureError:
            raise _not_authorized(MSG_BAD_SIGNATURE) from None
        except jwt.MissingRequiredClaimError as exc:
            raise _not_authorized(f"Invalid login token. Missing a required claim: {exc.claim}") from None
        except jwt.InvalidIssuerError:
            raise _not_authorized(MSG_WRONG_ISSUER) from None
        except jwt.InvalidAudienceError:
            raise _not_authorized(MSG_NOT_SUPPORTED_PROVIDER) from None
        except jwt.PyJWTError:
            raise _not_authorized(MSG_NOT_A_TOKEN) from None
        if claims.get("token_use") not in (None, "id"):
            raise _not_authorized("Invalid login token. Not an ID token.")
        now = int(self._now())
        if now >= int(claims["exp"]):   # exp on the lab clock, as Cognito says it
            raise _not_authorized(f"Invalid login token. Token expired: {now} >= {int(claims['exp'])}")
        aud = claims["aud"][0] if isinstance(claims["aud"], list) else claims["aud"]
        return Login(provider=provider, client_id=aud, claims=claims)

    def verify_logins(self, pool: dict, logins: dict | None) -> list[Login]:
        return [self.verify_login(pool, provider, token) for provider, token in (logins or {}).items()]

    def _link(self, identity: Identity, logins: Iterable[Login]) -> None:
        for login in logins:
            self.by_login[(identity.pool_id, login.provider, login.sub)] = identity.identity_id
            identity.logins[login.provider] = login.sub
        identity.modified = self._now()

    # -- GetId ----------------------------------------------------------------------------------
    def get_id(self, pool_id: str, logins: dict | None) -> str:
        """GetId: the identity for these logins (created on first use), or a new guest identity."""
        with self._lock:
            pool = self._pool(pool_id)
            verified = self.verify_logins(pool, logins)
            if not verified:
                if not pool.get("AllowUnauthenticatedIdentities"):
                    raise _not_authorized(MSG_UNAUTH_NOT_SUPPORTED)
                identity = Identity(self._new_identity_id(pool_id), pool_id, created=self._now(), modified=self._now())
                self.identities[identity.identity_id] = identity
                return identity.identity_id
            owners = [self.by_login.get((pool_id, login.provider, login.sub)) for login in verified]
            existing = next((owner for owner in owners if owner), None)
            if existing is None:
                identity = Identity(self._new_identity_id(pool_id), pool_id, created=self._now())
                self.identities[identity.identity_id] = identity
            else:
                identity = self.identities[existing]
            self._link(identity, verified)
            return identity.identity_id

    def describe_identity(self, identity_id: str) -> dict:
        """DescribeIdentity: its logins and dates."""
        identity = self._identity(identity_id)
        return {"IdentityId": identity.identity_id, "Logins": sorted(identity.logins),
                "CreationDate": identity.created, "LastModifiedDate": identity.modified}

    def _login_for(self, identity: Identity, pool: dict, logins: dict | None) -> Login | None:
        """The verified login a credentials/token call acts as (``None`` for a guest)."""
        verified = self.verify_logins(pool, logins)
        if not verified:
            if identity.authenticated:
                raise _not_authorized(f"Access to Identity '{identity.identity_id}' is forbidden.")
            if not pool.get("AllowUnauthenticatedIdentities"):
                raise _not_authorized(MSG_UNAUTH_NOT_SUPPORTED)
            return None
        for login in verified:
            owner = self.by_login.get((identity.pool_id, login.provider, login.sub))
            if owner is not None and owner != identity.identity_id:
                raise _not_authorized(MSG_LOGINS_DONT_MATCH)
            if owner is None and login.provider in identity.logins:
                raise _not_authorized(MSG_LOGINS_DONT_MATCH)   # a second user of the same provider
        self._link(identity, verified)
        return verified[0]

    @staticmethod
    def amr_for(login: Login | None) -> list[str]:
        """The ``amr`` Cognito puts in its OpenID token and trust-policy context."""
        if login is None:
            return ["unauthenticated"]
        return ["authenticated", login.provider, f"{login.provider}:CognitoSignIn:{login.sub}"]

    # -- roles ----------------------------------------------------------------------------------
    def set_roles(self, pool_id: str, roles: dict | None, role_mappings: dict | None) -> None:
        """SetIdentityPoolRoles, with Cognito's parameter checks."""
        with self._lock:
            pool = self._pool(pool_id)
            roles = dict(roles or {})
            for kind, arn in roles.items():
                if kind not in ("authenticated", "unauthenticated"):
                    raise _invalid_parameter(f"Invalid role type {kind!r}: use 'authenticated' or 'unauthenticated'.")
                if not re.match(r"^arn:aws[\w-]*:iam::\d{12}:role/.+", arn or ""):
                    raise _invalid_parameter(f"Invalid role ARN {arn!r}.")
            mappings = dict(role_mappings or {})
            providers = {p.get("ProviderName") for p in pool.get("CognitoIdentityProviders") or []}
            for name, mapping in mappings.items():
                provider = name.rsplit(":", 1)[0] if _PROVIDER.match(name.rsplit(":", 1)[0]) else name
                if provider not in providers:
                    raise _invalid_parameter(
                        f"The provider {name} is not configured for identity pool {pool_id}.")
                kind = mapping.get("Type")
                if kind not in ("Token", "Rules"):
                    raise _invalid_parameter(f"RoleMapping Type must be Token or Rules, not {kind!r}.")
                if mapping.get("AmbiguousRoleResolution") not in ("AuthenticatedRole", "Deny"):
                    raise _invalid_parameter(
                        "AmbiguousRoleResolution must be specified as AuthenticatedRole or Deny for Token and Rules mappings.")
                if kind == "Rules":
                    rules = (mapping.get("RulesConfiguration") or {}).get("Rules") or []
                    if not 1 <= len(rules) <= 25:
                        raise _invalid_parameter("RulesConfiguration must have between 1 and 25 rules.")
                    for rule in rules:
                        missing = [k for k in ("Claim", "MatchType", "Value", "RoleARN") if not rule.get(k)]
                        if missing:
                            raise _invalid_parameter(f"A mapping rule is missing {', '.join(missing)}.")
                        if rule["MatchType"] not in _MATCH_TYPES:
                            raise _invalid_parameter(f"MatchType must be one of {', '.join(_MATCH_TYPES)}.")
            self.roles[pool_id] = {"Roles": roles, "RoleMappings": mappings}

    def get_roles(self, pool_id: str) -> dict:
        """GetIdentityPoolRoles."""
        self._pool(pool_id)
        config = self.roles.get(pool_id) or {}
        result: dict[str, Any] = {"IdentityPoolId": pool_id, "Roles": dict(config.get("Roles") or {})}
        if config.get("RoleMappings"):
            result["RoleMappings"] = json.loads(json.dumps(config["RoleMappings"]))
        return result

    def forget_pool(self, pool_id: str) -> None:
        """DeleteIdentityPool: its identities and roles go (credentials already issued stay valid)."""
        with self._lock:
            self.roles.pop(pool_id, None)
            self.classic_flow.pop(pool_id, None)
            for identity_id in [i for i, ident in self.identities.items() if ident.pool_id == pool_id]:
                del self.identities[identity_id]
            for key in [k for k in self.by_login if k[0] == pool_id]:
                del self.by_login[key]

    def _trusted_role(self, role_arn: str, pool_id: str, identity_id: str, amr: list[str]) -> Role | None:
        role = self.backend.role(role_arn)
        if role is None:
            return None
        context = {"cognito-identity.amazonaws.com:aud": pool_id, "cognito-identity.amazonaws.com:amr": amr,
                   "cognito-identity.amazonaws.com:sub": identity_id}
        decision = iam.evaluate([role.trust_policy], "sts:AssumeRoleWithWebIdentity", None, context,
                                principal={"Federated": [PRINCIPAL]}, policy_kind="trust")
        return role if decision.allowed else None

    def _issue(self, role: Role, *, identity: Identity, amr: list[str], session_name: str, lifetime: int,
               session_policy: dict | None = None) -> tuple[StsSession, IssuedCredentials]:
        expiration = self._now() + lifetime
        session = self.backend.issue(role.arn, session_name, datetime.fromtimestamp(expiration, tz=timezone.utc))
        issued = IssuedCredentials(
            access_key_id=session.access_key_id, role_arn=role.arn, assumed_role_arn=session.assumed_role_arn,
            assumed_role_id=session.assumed_role_id, identity_id=identity.identity_id, pool_id=identity.pool_id,
            amr=amr, expiration=expiration, session_policy=session_policy, region=identity.pool_id.split(":")[0])
        self.issued[session.access_key_id] = issued
        return session, issued

    # -- GetCredentialsForIdentity (enhanced flow) ----------------------------------------------
    def get_credentials(self, identity_id: str, logins: dict | None, custom_role_arn: str | None = None) -> dict:
        """GetCredentialsForIdentity: check the logins, choose the role, check its trust, issue 1 h credentials."""
        with self._lock:
            identity = self._identity(identity_id)
            pool = self._pool(identity.pool_id)
            login = self._login_for(identity, pool, logins)
            role_arn = resolve_role(self.roles.get(identity.pool_id) or {}, login, custom_role_arn)
            amr = self.amr_for(login)
            role = self._trusted_role(role_arn, identity.pool_id, identity_id, amr)
            if role is None:
                raise _bad_config()
            guest = login is None
            session, issued = self._issue(role, identity=identity, amr=amr, session_name=SESSION_NAME,
                                          lifetime=CREDENTIALS_LIFETIME,
                                          session_policy=GUEST_SCOPE_DOWN_POLICY if guest else None)
            issued.scoped_down = guest
            return {"IdentityId": identity_id, "Credentials": {
                "AccessKeyId": session.access_key_id, "SecretKey": session.secret_access_key,
                "SessionToken": session.session_token, "Expiration": issued.expiration}}

    # -- GetOpenIdToken + AssumeRoleWithWebIdentity (basic / classic flow) -------------------------
    def _signing_key(self):
        if self._openid_key is None:
            self._openid_key = new_rsa_key()
            self._openid_kid = f"{self.lab.region}-lab{self.lab.rng.getrandbits(32):08x}"
        return self._openid_key, self._openid_kid

    def openid_jwks(self) -> dict:
        """The public keys of the identity pools' OpenID tokens (AWS publishes them at
        ``https://cognito-identity.amazonaws.com/.well-known/jwks_uri``)."""
        key, kid = self._signing_key()
        return {"keys": [public_jwk(key, kid)]}

    def get_open_id_token(self, identity_id: str, logins: dict | None) -> dict:
        """GetOpenIdToken: a 10-minute OpenID token for the identity, only with AllowClassicFlow."""
        with self._lock:
            identity = self._identity(identity_id)
            pool = self._pool(identity.pool_id)
            if not self.classic_flow.get(identity.pool_id, False):
                raise _invalid_parameter(MSG_CLASSIC_DISABLED)
            login = self._login_for(identity, pool, logins)
            now = int(self._now())
            key, kid = self._signing_key()
            claims = {"iss": OPENID_ISSUER, "sub": identity_id, "aud": identity.pool_id,
                      "amr": self.amr_for(login), "iat": now, "exp": now + OPENID_TOKEN_LIFETIME,
                      "https://cognito-identity.amazonaws.com/identity-pool-arn":
                          f"arn:aws:cognito-identity:{identity.pool_id.split(':')[0]}:{self.lab.account_id}:"
                          f"identitypool/{identity.pool_id}"}
            token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
            return {"IdentityId": identity_id, "Token": token}

    @staticmethod
    def is_cognito_openid_token(token: str) -> bool:
        try:
            return jwt.decode(token, options={"verify_signature": False}).get("iss") == OPENID_ISSUER
        except jwt.PyJWTError:
            return False

    def assume_role_with_web_identity(self, role_arn: str, token: str, session_name: str,
                                      duration: int | None, policy: str | None) -> tuple[StsSession, IssuedCredentials, dict]:
        """STS AssumeRoleWithWebIdentity for a token from GetOpenIdToken (the classic flow's last step)."""
        with self._lock:
            key, kid = self._signing_key()
            try:
                claims = jwt.decode(token, key=key.public_key(), algorithms=["RS256"],
                                    options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                             "verify_aud": False, "require": ["sub", "aud", "exp"]})
            except jwt.PyJWTError:
                raise IdentityPoolError("InvalidIdentityToken", "Couldn't verify signed token.",
                                        service="sts") from None
            now = int(self._now())
            if now >= int(claims["exp"]):
                raise IdentityPoolError(
                    "ExpiredTokenException",
                    f"Token expired: current date/time {now} must be before the expiration date/time {claims['exp']}",
                    service="sts")
            duration = CREDENTIALS_LIFETIME if duration is None else int(duration)
            if not 900 <= duration <= 43200:
                raise IdentityPoolError("ValidationError", f"1 validation error detected: Value '{duration}' at "
                                        "'durationSeconds' failed to satisfy constraint: Member must have value "
                                        "greater than or equal to 900", service="sts")
            identity = self.identities.get(claims["sub"]) or Identity(claims["sub"], claims["aud"])
            amr = list(claims.get("amr") or [])
            role = self._trusted_role(role_arn, claims["aud"], claims["sub"], amr)
            if role is None:
                raise IdentityPoolError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                                        status=403, service="sts")
            session_policy = iam.as_policy(policy) if policy else None
            session, issued = self._issue(role, identity=identity, amr=amr, session_name=session_name,
                                          lifetime=duration, session_policy=session_policy)
            return session, issued, claims

    # -- authorization of S3 / DynamoDB requests ------------------------------------------------
    def authorize(self, request) -> Any:
        """The lab request hook: S3 and DynamoDB requests signed with credentials handed out here
        are evaluated against the role's policies; other requests pass untouched (``None``)."""
        auth = request.headers.get("authorization", "")
        if auth and not auth.startswith(("AWS4-HMAC-SHA256 ", "AWS ")):
            # AWS refuses an Authorization header that is not an AWS signature (a JWT, say):
            # a token is not a credential for S3 or DynamoDB.
            return _unsupported_authorization(request, str(uuid.uuid4()))
        key_id, service = request.credential_scope
        issued = self.issued.get(key_id or "")
        if issued is None:
            return None
        request_id = str(uuid.uuid4())   # not from lab.rng: request ids must not shift the lab's seeded values
        if service not in ("s3", "dynamodb", "sts"):
            if issued.scoped_down and self._now() < issued.expiration:
                return _scope_down_check(service, request, request_id, issued)
            return None
        if self._now() >= issued.expiration:
            return _expired_response(service, request, request_id)
        if service == "sts":
            return None   # GetCallerIdentity needs no permission
        try:
            checks = self._checks(service, request, issued)
        except ValueError:
            return None   # a request the lab can't map: let moto answer it
        role = self.backend.role(issued.role_arn)
        policies = role.policies if role is not None else []
        for check in checks:
            context = self._context(issued, role, check)
            resource_policy = None
            principal = None
            if service == "s3" and check.resource.startswith("arn:aws:s3:::"):
                resource_policy = self.backend.bucket_policy(check.resource[13:].split("/", 1)[0])
                # Only the role itself: a bucket policy naming the account merely delegates to IAM,
                # so the role's own policies must still allow the request.
                principal = {"AWS": [issued.assumed_role_arn, issued.role_arn]}
            decision = iam.evaluate_with_session_policy(policies, issued.session_policy, check.action,
                                                        check.resource, context, resource_policy, principal)
            if not decision.allowed:
                return _access_denied_response(service, request, request_id, issued, check, decision)
        return None

    def _checks(self, service: str, request, issued: IssuedCredentials) -> list[iam.Request]:
        if service == "s3":
            raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
            path = unquote(raw.split("?", 1)[0])
            if path.startswith("http://") or path.startswith("https://"):
                path = "/" + path.split("://", 1)[1].split("/", 1)[-1]
            query = parse_qs(request.environ.get("QUERY_STRING", ""), keep_blank_values=True)
            return iam.s3_requests(request.method, path, query, request.headers, request.body)
        operation = request.target.split(".", 1)[-1]
        if not operation:
            raise ValueError("no X-Amz-Target")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise ValueError("not JSON") from None
        return iam.dynamodb_requests(operation, body, region=issued.region, account_id=self.lab.account_id,
                                     hash_key_of=self.backend.hash_key)

    def _context(self, issued: IssuedCredentials, role: Role | None, check: iam.Request) -> dict:
        now = self.lab.clock.now()
        context = {
            "cognito-identity.amazonaws.com:sub": issued.identity_id,
            "cognito-identity.amazonaws.com:aud": issued.pool_id,
            "cognito-identity.amazonaws.com:amr": issued.amr,
            "aws:PrincipalArn": issued.role_arn,
            "aws:PrincipalAccount": self.lab.account_id,
            "aws:PrincipalType": "AssumedRole",
            "aws:userid": issued.assumed_role_id,
            "aws:FederatedProvider": PRINCIPAL,
            "aws:SecureTransport": "true",     # SDKs talk HTTPS to AWS; the lab's HTTP is an implementation detail
            "aws:RequestedRegion": issued.region,
            "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": str(int(now.timestamp())),
        }
        context.update(check.context)
        return context


def _operation(request) -> str | None:
    """The API operation of a JSON (X-Amz-Target) or query-protocol (Action=) request, if it says."""
    if request.target:
        return request.target.rsplit(".", 1)[-1] or None
    query = parse_qs(request.environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if "x-www-form-urlencoded" in request.headers.get("content-type", ""):
        body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body)
        return (parse_qs(body).get("Action") or [None])[0]
    return None


def _scope_down_check(service: str, request, request_id: str, issued: IssuedCredentials):
    """Guests of the enhanced flow, on a service the lab does not evaluate policies for: only the
    scope-down is checked (the role's own policies are not: the lab leaves those calls to moto)."""
    prefix = _IAM_PREFIX.get(service, service)
    operation = _operation(request)
    if operation is not None:
        action = f"{prefix}:{operation}"
        if guest_scope_down_allows(action):
            return None
    else:
        if prefix in guest_scope_down_services():
            return None          # a REST call the lab can't name: the service is on the list
        action = f"{prefix}:*"
    message = (f"User: {issued.assumed_role_arn} is not authorized to perform: {action} "
               f"because no session policy allows the {action} action")
    if request.target:
        body = json.dumps({"__type": "AccessDeniedException", "Message": message})
        return _response(400, body, "application/x-amz-json-1.1",
                         {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": "AccessDeniedException"})
    return _response(403, sts_error_body("AccessDenied", message, request_id), "text/xml")


# -- AWS's error shapes ---------------------------------------------------------------------------
def _response(status: int, body: str, content_type: str, headers: dict | None = None):
    from werkzeug.wrappers import Response

    return Response(body, status=status, content_type=content_type, headers=headers or {})


def _s3_error(request, status: int, code: str, message: str, request_id: str, extra: str = ""):
    headers = {"x-amz-request-id": request_id[:16].upper().replace("-", "")}
    if request.method == "HEAD":      # S3 answers HEAD with the status alone
        return _response(status, "", "application/xml", headers)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{_xml(message)}</Message>{extra}"
            f"<RequestId>{headers['x-amz-request-id']}</RequestId>"
            f"<HostId>{request_id}</HostId></Error>")
    return _response(status, body, "application/xml", headers)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _dynamodb_error(kind: str, message: str, request_id: str, message_key: str = "message"):
    body = json.dumps({"__type": f"com.amazon.coral.service#{kind}", message_key: message})
    return _response(400, body, "application/x-amz-json-1.0",
                     {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": kind})


def _unsupported_authorization(request, request_id: str):
    if request.target:      # JSON services (DynamoDB, Cognito…) name the operation in X-Amz-Target
        return _response(400, json.dumps({"__type": "IncompleteSignatureException",
                                          "message": "Authorization header requires 'Credential' parameter. "
                                                     "Authorization header requires 'Signature' parameter."}),
                         "application/x-amz-json-1.1", {"x-amzn-RequestId": request_id})
    return _s3_error(request, 400, "InvalidArgument", "Unsupported Authorization Type", request_id,
                     "<ArgumentName>Authorization</ArgumentName>")


def _expired_response(service: str, request, request_id: str):
    if service == "s3":
        return _s3_error(request, 400, "ExpiredToken", "The provided token has expired.", request_id)
    if service == "dynamodb":
        return _dynamodb_error("ExpiredTokenException", "The security token included in the request is expired",
                               request_id)
    body = sts_error_body("ExpiredToken", "The security token included in the request is expired", request_id)
    return _response(403, body, "text/xml")


def sts_error_body(code: str, message: str, request_id: str) -> str:
    """STS's XML error document."""
    return ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{_xml(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>")


def _access_denied_response(service: str, request, request_id: str, issued: IssuedCredentials,
                            check: iam.Request, decision: iam.Decision):
    who = issued.assumed_role_arn
    if service == "s3":
        message = (f'User: {who} is not authorized to perform: {check.action} on resource: "{check.resource}" '
                   f"{decision.explain(check.action)}")
        return _s3_error(request, 403, "AccessDenied", message, request_id)
    message = (f"User: {who} is not authorized to perform: {check.action} on resource: {check.resource} "
               f"{decision.explain(check.action)}")
    return _dynamodb_error("AccessDeniedException", message, request_id, message_key="Message")
