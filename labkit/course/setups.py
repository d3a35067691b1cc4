"""Standard identity-pool set-ups in a call or two, built with plain boto3 calls against the lab.

Every helper does only what you could type yourself (CreateIdentityPool, CreateRole, PutRolePolicy,
SetIdentityPoolRoles, CreateBucket, CreateTable, CreateGroup…) and returns an object that shows what
it built, so a notebook can print it and then explain each piece::

    >>> from labkit import Lab
    >>> from labkit import setups
    >>> with Lab(seed=1) as lab:                                  # doctest: +SKIP
    ...     ids = setups.identity_pool(lab, user_pool_id, client_id)
    ...     files = setups.private_s3_prefix(lab, ids)
    ...     s3 = ids.client("s3", id_token)                       # signed with alice's credentials
    ...     s3.put_object(Bucket=files.bucket, Key=files.key_for(ids.get_id(id_token), "notes.txt"), Body=b"hi")

The set-ups:

* :func:`identity_pool` — an identity pool wired to a user pool app client.
* :func:`private_s3_prefix` — a bucket where each signed-in identity owns ``private/<identity id>/``.
* :func:`guest_read_only` — a guest (unauthenticated) role that may only read ``public/``.
* :func:`roles_by_group` — one role per Cognito group, chosen from the ID token
  (``cognito:preferred_role``, role mapping ``Token``) or by rules on ``cognito:groups``.
* :func:`per_identity_table` — a DynamoDB table whose partition key is the identity id,
  guarded by ``dynamodb:LeadingKeys``.

Roles get the trust policy Cognito needs (:func:`labkit.emulator.identity_pools.trust_policy`). Helpers that
grant signed-in users something share one authenticated role (``LabAuthenticatedRole`` by
default), each adding its own inline policy, so set-ups combine.
"""
from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from typing import Any

from ..emulator.identity_pools import trust_policy

__all__ = ["IdentityPoolSetup", "identity_pool", "create_role", "private_s3_prefix", "PrivatePrefix",
           "guest_read_only", "GuestReadOnly", "roles_by_group", "GroupRoles", "per_identity_table",
           "PerIdentityTable", "SUB"]

#: The policy variable that stands for the caller's identity id.
SUB = "${cognito-identity.amazonaws.com:sub}"

AUTHENTICATED_ROLE = "LabAuthenticatedRole"
GUEST_ROLE = "LabGuestRole"


_clients: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _admin(lab, service: str):
    """The lab's admin client for ``service``, made once per lab (making a boto3 client is slow)."""
    per_lab = _clients.setdefault(lab, {})
    key = (service, lab.endpoint_url)        # a restarted lab listens on a new port
    if key not in per_lab:
        per_lab[key] = lab.client(service)
    return per_lab[key]


def _policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _pretty(document: dict) -> str:
    return json.dumps(document, indent=2)


# -- the identity pool --------------------------------------------------------------------------
@dataclass
class IdentityPoolSetup:
    """An identity pool that accepts ID tokens from one user pool app client.

    ``provider`` is the ``Logins`` key (``cognito-idp.<region>.amazonaws.com/<user pool id>``);
    ``role_mapping_key`` the key RoleMappings use for it (``<provider>:<client id>``).
    """

    lab: Any = field(repr=False)
    id: str
    name: str
    user_pool_id: str
    client_id: str
    provider: str
    allow_guests: bool = False
    allow_classic_flow: bool = False

    @property
    def role_mapping_key(self) -> str:
        return f"{self.provider}:{self.client_id}"

    def logins(self, id_token: str | None) -> dict:
        """The ``Logins`` map for an ID token (empty for a guest)."""
        return {self.provider: id_token} if id_token else {}

    def get_id(self, id_token: str | None = None) -> str:
        """GetId: the identity id for this user (or a new guest identity without a token)."""
        ci = _admin(self.lab, "cognito-identity")
        return ci.get_id(IdentityPoolId=self.id, Logins=self.logins(id_token))["IdentityId"]

    def credentials(self, id_token: str | None = None, *, custom_role_arn: str | None = None) -> dict:
        """GetId + GetCredentialsForIdentity: ``{"IdentityId": …, "Credentials": {…}}``."""
        ci = _admin(self.lab, "cognito-identity")
        identity_id = self.get_id(id_token)
        kwargs: dict = {"IdentityId": identity_id, "Logins": self.logins(id_token)}
        if custom_role_arn:
            kwargs["CustomRoleArn"] = custom_role_arn
        result = ci.get_credentials_for_identity(**kwargs)
        return {"IdentityId": result["IdentityId"], "Credentials": result["Credentials"]}

    def client(self, service: str, id_token: str | None = None, **kwargs: Any):
        """A boto3 client signed with the identity pool's credentials for this user (or a guest)."""
        return self.lab.client(service, credentials=self.credentials(id_token, **kwargs)["Credentials"])

    def roles(self) -> dict:
        """GetIdentityPoolRoles (without the response metadata)."""
        result = _admin(self.lab, "cognito-identity").get_identity_pool_roles(IdentityPoolId=self.id)
        return {k: v for k, v in result.items() if k in ("Roles", "RoleMappings")}

    def set_roles(self, *, authenticated: str | None = None, unauthenticated: str | None = None,
                  role_mappings: dict | None = None) -> dict:
        """SetIdentityPoolRoles, keeping what is already set unless given here. Returns the new roles."""
        current = self.roles()
        roles = dict(current.get("Roles") or {})
        if authenticated:
            roles["authenticated"] = authenticated
        if unauthenticated:
            roles["unauthenticated"] = unauthenticated
        mappings = dict(current.get("RoleMappings") or {})
        mappings.update(role_mappings or {})
        kwargs: dict = {"IdentityPoolId": self.id, "Roles": roles}
        if mappings:
            kwargs["RoleMappings"] = mappings
        _admin(self.lab, "cognito-identity").set_identity_pool_roles(**kwargs)
        return self.roles()


def identity_pool(lab, user_pool: Any, client_id: str | None = None, *, name: str = "lab_identities",
                  allow_guests: bool = False, allow_classic_flow: bool = False) -> IdentityPoolSetup:
    """CreateIdentityPool accepting ID tokens of ``client_id`` in ``user_pool``.

    ``user_pool`` is a user pool id (then give ``client_id``) or a
    :class:`labkit.course.userpool.UserPoolSetup` (its ``pool_id`` and ``client_id`` are used).
    Guests (``allow_guests``) and the basic flow (``allow_classic_flow``) are off unless asked for,
    as in the Cognito console. The pool has no roles yet: the other helpers add them.
    """
    if isinstance(user_pool, str):
        user_pool_id = user_pool
    else:
        user_pool_id = user_pool.pool_id
        client_id = client_id or user_pool.client_id
    if not client_id:
        raise ValueError("identity_pool() needs the app client id whose ID tokens the pool accepts")
    provider = f"cognito-idp.{lab.region}.amazonaws.com/{user_pool_id}"
    result = _admin(lab, "cognito-identity").create_identity_pool(
        IdentityPoolName=name, AllowUnauthenticatedIdentities=allow_guests, AllowClassicFlow=allow_classic_flow,
        CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": client_id,
                                   "ServerSideTokenCheck": False}])
    return IdentityPoolSetup(lab=lab, id=result["IdentityPoolId"], name=name, user_pool_id=user_pool_id,
                             client_id=client_id, provider=provider, allow_guests=allow_guests,
                             allow_classic_flow=allow_classic_flow)


# -- roles --------------------------------------------------------------------------------------
def create_role(lab, name: str, identity_pool_id: str, policy: dict | None = None, *,
                amr: str = "authenticated", policy_name: str = "permissions") -> str:
    """CreateRole that ``identity_pool_id`` may hand to ``amr`` identities (creates it if missing),
    then PutRolePolicy ``policy`` as ``policy_name``. Returns the role ARN."""
    iam = _admin(lab, "iam")
    try:
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(RoleName=name,
                              AssumeRolePolicyDocument=json.dumps(trust_policy(identity_pool_id, amr)),
                              Description=f"Handed out by identity pool {identity_pool_id} to {amr} identities",
                              )["Role"]["Arn"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
    return arn


def _ensure_bucket(lab, bucket: str) -> None:
    s3 = _admin(lab, "s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=bucket)


# -- private per-user S3 prefix --------------------------------------------------------------------
@dataclass
class PrivatePrefix:
    """A bucket where each identity may list, read, write and delete only under ``private/<its id>/``."""

    bucket: str
    role_arn: str
    policy: dict = field(repr=False)

    def prefix_for(self, identity_id: str) -> str:
        return f"private/{identity_id}/"

    def key_for(self, identity_id: str, name: str) -> str:
        """The key of ``name`` in this identity's private folder."""
        return self.prefix_for(identity_id) + name

    def describe(self) -> str:
        return f"Role {self.role_arn} may use s3://{self.bucket}/private/<identity id>/:\n{_pretty(self.policy)}"


def private_s3_prefix(lab, pool: IdentityPoolSetup, *, bucket: str = "lab-private-files",
                      role_name: str = AUTHENTICATED_ROLE) -> PrivatePrefix:
    """A private per-user prefix: ``s3://<bucket>/private/${cognito-identity.amazonaws.com:sub}/*``.

    Creates the bucket, gives the identity pool's authenticated role (``role_name``) the policy
    below and makes it the pool's authenticated role. IAM replaces ``${…:sub}`` with the caller's
    identity id at request time, so one role serves every user and no user can reach another's
    folder.
    """
    _ensure_bucket(lab, bucket)
    policy = _policy(
        {"Sid": "ListOwnFolder", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": {"s3:prefix": [f"private/{SUB}/", f"private/{SUB}/*"]}}},
        {"Sid": "ReadWriteOwnFolder", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"arn:aws:s3:::{bucket}/private/{SUB}/*"},
    )
    role_arn = create_role(lab, role_name, pool.id, policy, policy_name=f"private-s3-prefix-{bucket}")
    pool.set_roles(authenticated=role_arn)
    return PrivatePrefix(bucket=bucket, role_arn=role_arn, policy=policy)


# -- guests ---------------------------------------------------------------------------------------
@dataclass
class GuestReadOnly:
    """A guest role that may list and read ``s3://<bucket>/<prefix>`` and nothing else."""

    bucket: str
    prefix: str
    role_arn: str
    policy: dict = field(repr=False)

    def describe(self) -> str:
        return f"Guests ({self.role_arn}) may read s3://{self.bucket}/{self.prefix}:\n{_pretty(self.policy)}"


def guest_read_only(lab, pool: IdentityPoolSetup, *, bucket: str = "lab-public-files", prefix: str = "public/",
                    role_name: str = GUEST_ROLE, allow_guests: bool = True) -> GuestReadOnly:
    """A read-only guest role, made the pool's unauthenticated role.

    With ``allow_guests`` (default) it also turns on AllowUnauthenticatedIdentities: without that
    switch, GetId without Logins is refused however the roles are set.
    """
    _ensure_bucket(lab, bucket)
    policy = _policy(
        {"Sid": "ListPublic", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}}},
        {"Sid": "ReadPublic", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/{prefix}*"},
    )
    role_arn = create_role(lab, role_name, pool.id, policy, amr="unauthenticated",
                           policy_name=f"guest-read-only-{bucket}")
    if allow_guests and not pool.allow_guests:
        ci = _admin(lab, "cognito-identity")
        current = ci.describe_identity_pool(IdentityPoolId=pool.id)
        ci.update_identity_pool(IdentityPoolId=pool.id, IdentityPoolName=current["IdentityPoolName"],
                                AllowUnauthenticatedIdentities=True,
                                CognitoIdentityProviders=current.get("CognitoIdentityProviders") or [])
        pool.allow_guests = True
    pool.set_roles(unauthenticated=role_arn)
    return GuestReadOnly(bucket=bucket, prefix=prefix, role_arn=role_arn, policy=policy)


# -- roles by group -------------------------------------------------------------------------------
@dataclass
class GroupRoles:
    """One role per Cognito group and the role mapping that picks among them.

    ``roles`` maps group name to role ARN; ``mapping`` is the RoleMappings entry that was set.
    """

    roles: dict[str, str]
    mapping_key: str
    mapping: dict

    def role_for(self, group: str) -> str:
        return self.roles[group]


def roles_by_group(lab, pool: IdentityPoolSetup, groups: dict[str, dict], *, precedence: list[str] | None = None,
                   mapping: str = "Token", ambiguous: str = "Deny") -> GroupRoles:
    """Roles chosen by Cognito group.

    ``groups`` maps a group name to the permission policy of its role. For each group this creates a
    role ``Lab<Group>Role`` (trusted by the identity pool) and the user-pool group with that
    ``RoleArn`` and a ``Precedence`` (order of ``precedence``, else of ``groups``; lower wins).

    ``mapping="Token"`` (default): Cognito puts the group roles in the ID token
    (``cognito:roles``, and the lowest-precedence group's role as ``cognito:preferred_role``) and
    the identity pool uses the preferred role. ``mapping="Rules"``: one rule per group,
    ``cognito:groups Contains <group>``, first match wins.

    ``ambiguous`` ("Deny" or "AuthenticatedRole") is what happens to a user the mapping can't
    place, e.g. one in no group.
    """
    if mapping not in ("Token", "Rules"):
        raise ValueError('mapping is "Token" or "Rules"')
    if ambiguous not in ("Deny", "AuthenticatedRole"):
        raise ValueError('ambiguous is "Deny" or "AuthenticatedRole"')
    order = list(precedence or groups)
    idp = _admin(lab, "cognito-idp")
    roles: dict[str, str] = {}
    for rank, group in enumerate(order):
        name = "Lab" + "".join(part.capitalize() for part in group.replace("_", "-").split("-")) + "Role"
        roles[group] = create_role(lab, name, pool.id, groups[group], policy_name=f"group-{group}")
        try:
            idp.create_group(GroupName=group, UserPoolId=pool.user_pool_id, RoleArn=roles[group], Precedence=rank)
        except idp.exceptions.GroupExistsException:
            idp.update_group(GroupName=group, UserPoolId=pool.user_pool_id, RoleArn=roles[group], Precedence=rank)
    entry: dict = {"Type": mapping, "AmbiguousRoleResolution": ambiguous}
    if mapping == "Rules":
        entry["RulesConfiguration"] = {"Rules": [
            {"Claim": "cognito:groups", "MatchType": "Contains", "Value": group, "RoleARN": roles[group]}
            for group in order]}
    pool.set_roles(role_mappings={pool.role_mapping_key: entry})
    return GroupRoles(roles=roles, mapping_key=pool.role_mapping_key, mapping=entry)


# -- DynamoDB rows per identity ---------------------------------------------------------------------
@dataclass
class PerIdentityTable:
    """A table whose partition key is the identity id; each identity may touch only its own items."""

    table: str
    partition_key: str
    sort_key: str | None
    role_arn: str
    policy: dict = field(repr=False)

    def key_for(self, identity_id: str, sort_value: str | None = None) -> dict:
        """The DynamoDB ``Key`` of an item of ``identity_id``."""
        key = {self.partition_key: {"S": identity_id}}
        if self.sort_key is not None and sort_value is not None:
            key[self.sort_key] = {"S": sort_value}
        return key

    def describe(self) -> str:
        return f"Role {self.role_arn} may use its own rows of {self.table}:\n{_pretty(self.policy)}"


#: What per_identity_table allows (Scan is left out on purpose: see per_identity_table).
ITEM_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]


def per_identity_table(lab, pool: IdentityPoolSetup, *, table: str = "LabNotes", partition_key: str = "identityId",
                       sort_key: str | None = "noteId", role_name: str = AUTHENTICATED_ROLE) -> PerIdentityTable:
    """A DynamoDB table keyed by identity id, with fine-grained access by ``dynamodb:LeadingKeys``.

    The authenticated role may use :data:`ITEM_ACTIONS` only when every partition-key value the
    request touches equals the caller's identity id
    (``ForAllValues:StringEquals {"dynamodb:LeadingKeys": ["${cognito-identity.amazonaws.com:sub}"]}``).
    Scan is not granted: a Scan names no partition key, and ``ForAllValues`` over an empty set is
    *true*, so a policy granting Scan with this condition would hand out the whole table.
    """
    ddb = _admin(lab, "dynamodb")
    if table not in ddb.list_tables()["TableNames"]:
        schema = [{"AttributeName": partition_key, "KeyType": "HASH"}]
        attributes = [{"AttributeName": partition_key, "AttributeType": "S"}]
        if sort_key:
            schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
            attributes.append({"AttributeName": sort_key, "AttributeType": "S"})
        ddb.create_table(TableName=table, KeySchema=schema, AttributeDefinitions=attributes,
                         BillingMode="PAY_PER_REQUEST")
    table_arn = f"arn:aws:dynamodb:{lab.region}:{lab.account_id}:table/{table}"
    policy = _policy({
        "Sid": "OwnItemsOnly", "Effect": "Allow", "Action": ITEM_ACTIONS, "Resource": table_arn,
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [SUB]}},
    })
    role_arn = create_role(lab, role_name, pool.id, policy, policy_name=f"per-identity-table-{table}")
    pool.set_roles(authenticated=role_arn)
    return PerIdentityTable(table=table, partition_key=partition_key, sort_key=sort_key, role_arn=role_arn,
                            policy=policy)
