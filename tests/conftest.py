"""Shared fixtures. Add yours below; keep the existing ones."""
from types import SimpleNamespace

import pytest

from labkit import Lab

PASSWORD = "Correct-Horse-9"
_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


def _pool_with_users(idp, name: str) -> tuple[str, str]:
    pool_id = idp.create_user_pool(PoolName=name)["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName=f"{name}-web",
                                            ExplicitAuthFlows=_FLOWS)["UserPoolClient"]["ClientId"]
    idp.create_group(UserPoolId=pool_id, GroupName="admin")
    for username in ("alice", "root"):
        idp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}])
        idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username="root", GroupName="admin")
    return pool_id, client_id


@pytest.fixture
def cognito():
    """A running lab with two user pools (each: app client "web", users alice and root, root in
    group admin), a second app client in the first pool, and ``sign_in()`` for tokens.

    ``cognito.sign_in(username="alice", client_id=None)`` returns the AuthenticationResult; the
    client id picks the pool (default: the first pool's web client).
    """
    with Lab(seed=2024) as lab:
        idp = lab.client("cognito-idp")
        pool_id, client_id = _pool_with_users(idp, "main")
        other_client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="main-other", ExplicitAuthFlows=_FLOWS)["UserPoolClient"]["ClientId"]
        other_pool_id, other_pool_client_id = _pool_with_users(idp, "elsewhere")

        def sign_in(username: str = "alice", client_id: str = client_id) -> dict:
            response = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                         AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD})
            return response["AuthenticationResult"]

        yield SimpleNamespace(lab=lab, idp=idp, pool_id=pool_id, client_id=client_id,
                              other_client_id=other_client_id, other_pool_id=other_pool_id,
                              other_pool_client_id=other_pool_client_id, password=PASSWORD,
                              sign_in=sign_in)
