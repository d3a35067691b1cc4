"""Lab(https=True): TLS with a throwaway CA, for clients that refuse plain HTTP."""
import json
import os
import ssl
import urllib.error
import urllib.request

import pytest

from labkit import Lab
from labkit.course.userpool import create_user_pool


def test_an_https_lab_serves_tls_that_its_own_clients_and_verifier_trust():
    """boto3 clients from lab.client() and lab.verifier() trust the lab's CA with no extra set-up."""
    with Lab(seed=8, https=True) as lab:
        assert lab.endpoint_url.startswith("https://127.0.0.1:")
        up = create_user_pool(lab, "tls")
        up.add_user("alice", "Passw0rd!", email="alice@example.com")
        token = up.sign_in("alice", "Passw0rd!")["AccessToken"]
        assert lab.jwks_url(up.pool_id).startswith("https://")
        assert lab.verifier(up.pool_id, up.client_id).verify(token)["username"] == "alice"


def test_the_certificate_is_trusted_only_through_the_labs_ca_bundle():
    """A client that does not trust lab.ca_bundle refuses the connection; with it, it works."""
    with Lab(https=True) as lab:
        pool = lab.client("cognito-idp").create_user_pool(PoolName="p")["UserPool"]["Id"]
        url = lab.jwks_url(pool)
        with pytest.raises(urllib.error.URLError) as caught:
            urllib.request.urlopen(url, timeout=5)
        assert isinstance(caught.value.reason, ssl.SSLCertVerificationError)
        context = ssl.create_default_context(cafile=lab.ca_bundle)
        with urllib.request.urlopen(url, context=context, timeout=5) as response:
            assert len(json.load(response)["keys"]) == 2


def test_the_throwaway_ca_is_deleted_when_the_lab_stops_and_http_labs_have_none():
    with Lab(https=True) as lab:
        bundle = lab.ca_bundle
        assert os.path.exists(bundle)
        key = os.path.join(os.path.dirname(bundle), "server.key")
        assert os.stat(key).st_mode & 0o077 == 0          # only this user can read the server key
    assert not os.path.exists(os.path.dirname(bundle))
    with Lab() as lab:
        assert lab.ca_bundle is None and lab.ssl_context is None


def test_https_must_be_a_boolean():
    with pytest.raises(TypeError, match="https must be True or False"):
        Lab(https="yes")
