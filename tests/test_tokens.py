"""labkit.tokens: inspect, verify (CognitoVerifier), the session helpers, the forgeries; labkit.timeline.

The first half uses keys and a JWKS server made here; the second half the lab's own pools.
"""
import http.server
import json
import threading
import time

import jwt
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from labkit.cognito import jwt as jwt_view
from labkit.cognito import session as cognito_session
from labkit.course import forgeries
from labkit.cognito.jwt import (
    AlgorithmNotAllowed,
    CognitoVerifier,
    InvalidSignature,
    JwksUnavailable,
    JwtVerificationError,
    MalformedToken,
    MissingGroup,
    MissingScope,
    TokenExpired,
    TokenNotYetValid,
    UnknownKey,
    WrongClient,
    WrongIssuer,
    WrongTokenUse,
)

POOL = "eu-west-1_TestPool1"
ISSUER = f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL}"
CLIENT = "webclient0000000000000001"
KEY_A = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_B = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeClock:
    def __init__(self, t: float | None = None) -> None:
        self.t = time.time() if t is None else t

    def time(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def jwk(key, kid: str) -> dict:
    return dict(RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), kid=kid, alg="RS256", use="sig")


def access_claims(now: float, **changes) -> dict:
    claims = {"sub": "0a1b", "iss": ISSUER, "client_id": CLIENT, "origin_jti": "o1", "event_id": "e1",
              "token_use": "access", "scope": "aws.cognito.signin.user.admin", "auth_time": int(now),
              "iat": int(now), "exp": int(now) + 3600, "jti": "j1", "username": "alice"}
    claims.update(changes)
    return claims


def id_claims(now: float, **changes) -> dict:
    claims = {"sub": "0a1b", "iss": ISSUER, "aud": CLIENT, "token_use": "id", "cognito:username": "alice",
              "auth_time": int(now), "iat": int(now), "exp": int(now) + 3600, "jti": "j2", "email": "a@x.io"}
    claims.update(changes)
    return claims


def sign(claims: dict, key=KEY_A, kid: str = "kid-a") -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


class JwksServer:
    """Serves a JWKS on 127.0.0.1 and counts the requests."""

    def __init__(self, keys: list[dict]) -> None:
        self.keys = keys
        self.fetches = 0
        self.status = 200
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.fetches += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/{POOL}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks():
    server = JwksServer([jwk(KEY_A, "kid-a")])
    yield server
    server.close()


@pytest.fixture
def clock():
    return FakeClock()


def verifier_for(jwks, clock, **options) -> CognitoVerifier:
    options.setdefault("client_id", CLIENT)
    return CognitoVerifier(POOL, jwks_url=jwks.url, clock=clock, **options)


# -- the happy path -------------------------------------------------------------------------------
def test_a_valid_access_token_returns_its_claims(jwks, clock):
    token = sign(access_claims(clock.time()))
    claims = verifier_for(jwks, clock).verify(token)
    assert claims["username"] == "alice" and claims["token_use"] == "access"


def test_an_id_token_verifies_when_asked_for_and_its_aud_is_the_client(jwks, clock):
    token = sign(id_claims(clock.time()))
    assert verifier_for(jwks, clock, token_use="id").verify(token)["cognito:username"] == "alice"


def test_a_list_of_clients_accepts_any_of_them(jwks, clock):
    token = sign(access_claims(clock.time(), client_id="second-client"))
    assert verifier_for(jwks, clock, client_id=[CLIENT, "second-client"]).verify(token)


def test_issuer_and_region_come_from_the_pool_id(jwks, clock):
    verifier = verifier_for(jwks, clock)
    assert verifier.issuer == ISSUER and verifier.region == "eu-west-1"
    assert CognitoVerifier("us-east-1_abc", "c").jwks_url == \
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/jwks.json"
    with pytest.raises(ValueError, match="not a user pool id"):
        CognitoVerifier("not-a-pool", CLIENT)
    with pytest.raises(ValueError, match="token_use"):
        CognitoVerifier(POOL, CLIENT, token_use="refresh")


def test_repr_names_pool_client_token_use_and_jwks(jwks, clock):
    text = repr(verifier_for(jwks, clock, groups="admin"))
    assert POOL in text and CLIENT in text and "access" in text and jwks.url in text
    assert "RS256" in text and "admin" in text


# -- each check, its own error ------------------------------------------------------------------
def test_alg_none_is_rejected(jwks, clock):
    forged = forgeries.forge_alg_none(sign(access_claims(clock.time())))
    with pytest.raises(AlgorithmNotAllowed, match="'none'.*only RS256"):
        verifier_for(jwks, clock).verify(forged)


def test_hs256_signed_with_the_public_key_is_rejected(jwks, clock):
    pem = forgeries.public_key_pem({"keys": jwks.keys}, "kid-a")
    forged = forgeries.forge_hs256(sign(access_claims(clock.time())), pem)
    with pytest.raises(AlgorithmNotAllowed, match="HS256"):
        verifier_for(jwks, clock).verify(forged)
    assert jwks.fetches == 0       # rejected before any key is even looked up


def test_tampered_payload_fails_the_signature(jwks, clock):
    forged = forgeries.tamper(sign(access_claims(clock.time())), {"cognito:groups": ["admin"]})
    with pytest.raises(InvalidSignature, match="altered or forged") as caught:
        verifier_for(jwks, clock).verify(forged)
    assert caught.value.claims["cognito:groups"] == ["admin"]   # what it tried to claim


def test_a_token_signed_by_another_key_with_the_right_kid_fails_the_signature(jwks, clock):
    with pytest.raises(InvalidSignature):
        verifier_for(jwks, clock).verify(sign(access_claims(clock.time()), key=KEY_B))


def test_wrong_issuer(jwks, clock):
    token = sign(access_claims(clock.time(), iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"))
    with pytest.raises(WrongIssuer, match="eu-west-1_Other"):
        verifier_for(jwks, clock).verify(token)


def test_an_id_token_is_not_an_access_token(jwks, clock):
    with pytest.raises(WrongTokenUse, match="'id', expected 'access'"):
        verifier_for(jwks, clock).verify(sign(id_claims(clock.time())))


def test_an_access_token_is_not_an_id_token(jwks, clock):
    with pytest.raises(WrongTokenUse):
        verifier_for(jwks, clock, token_use="id").verify(sign(access_claims(clock.time())))


def test_wrong_client_for_access_and_id_tokens(jwks, clock):
    with pytest.raises(WrongClient, match="client_id is 'someone-else'"):
        verifier_for(jwks, clock).verify(sign(access_claims(clock.time(), client_id="someone-else")))
    with pytest.raises(WrongClient, match="aud is 'someone-else'"):
        verifier_for(jwks, clock, token_use="id").verify(sign(id_claims(clock.time(), aud="someone-else")))


def test_expiry_follows_the_clock_with_a_small_leeway(jwks, clock):
    token = sign(access_claims(clock.time()))
    verifier = verifier_for(jwks, clock)
    clock.advance(3600 + 3)               # 3 s past exp: within the 5 s leeway
    assert verifier.verify(token)
    clock.advance(10)
    with pytest.raises(TokenExpired, match="ago on the verifier's clock"):
        verifier.verify(token)


def test_expiry_is_also_checked_in_real_time_whatever_the_clock_says(jwks):
    stale_clock = FakeClock(time.time() - 7200)             # a clock stuck two hours back
    token = sign(access_claims(time.time() - 5400))          # expired 30 min ago for real
    with pytest.raises(TokenExpired, match="in real time"):
        verifier_for(jwks, stale_clock).verify(token)


def test_a_token_issued_in_the_future_is_not_yet_valid(jwks, clock):
    token = sign(access_claims(clock.time() + 120))
    with pytest.raises(TokenNotYetValid, match="iat.*in the future"):
        verifier_for(jwks, clock).verify(token)
    assert verifier_for(jwks, clock).verify(sign(access_claims(clock.time() + 3)))   # within leeway


def test_required_groups_and_scopes(jwks, clock):
    plain = sign(access_claims(clock.time()))
    admin = sign(access_claims(clock.time(), **{"cognito:groups": ["staff", "admin"]}))
    assert verifier_for(jwks, clock, groups=["admin", "ops"]).verify(admin)
    with pytest.raises(MissingGroup, match="requires group admin"):
        verifier_for(jwks, clock, groups="admin").verify(plain)
    assert verifier_for(jwks, clock, scopes="aws.cognito.signin.user.admin").verify(plain)
    with pytest.raises(MissingScope, match="orders/read"):
        verifier_for(jwks, clock, scopes="orders/read").verify(plain)


@pytest.mark.parametrize("junk", ["", "not a jwt", "a.b", "a.b.c.d", "!!!.eyJ9.x", "W10.e30.x",
                                  "d9ed17e3-cc0e-45ee-8d10-3ed3cc667e97"])
def test_malformed_tokens(jwks, clock, junk):
    with pytest.raises(MalformedToken):
        verifier_for(jwks, clock).verify(junk)


def test_a_token_without_exp_is_malformed(jwks, clock):
    claims = access_claims(clock.time())
    del claims["exp"]
    with pytest.raises(MalformedToken, match="'exp' is missing"):
        verifier_for(jwks, clock).verify(sign(claims))


def test_every_error_is_a_JwtVerificationError_with_a_one_line_message(jwks, clock):
    now = clock.time()
    cases = [forgeries.forge_alg_none(sign(access_claims(now))), sign(access_claims(now), kid="nope"),
             sign(access_claims(now, exp=now - 60)), sign(id_claims(now)), "x.y",
             sign(access_claims(now, client_id="zz"))]
    seen = set()
    for token in cases:
        with pytest.raises(JwtVerificationError) as caught:
            verifier_for(jwks, clock).verify(token)
        message = str(caught.value)
        assert "\n" not in message and message.startswith(caught.value.summary + ": ")
        assert caught.value.aws_jwt_verify
        seen.add(type(caught.value))
    assert len(seen) == len(cases)   # each failure has its own class


# -- the JWKS: cached, one rate-limited refetch for an unknown kid --------------------------------
def test_jwks_is_fetched_once_and_cached(jwks, clock):
    verifier = verifier_for(jwks, clock)
    token = sign(access_claims(clock.time()))
    for _ in range(50):
        verifier.verify(token)
    assert jwks.fetches == 1 and verifier.jwks_fetches == 1


def test_unknown_kid_refetches_once_then_rate_limits(jwks, clock):
    verifier = verifier_for(jwks, clock, refetch_interval=10)
    assert verifier.verify(sign(access_claims(clock.time())))
    assert jwks.fetches == 1

    # The pool rotates its key: the first token with the new kid triggers one refetch and passes.
    jwks.keys = [jwk(KEY_A, "kid-a"), jwk(KEY_B, "kid-b")]
    clock.advance(11)
    assert verifier.verify(sign(access_claims(clock.time()), key=KEY_B, kid="kid-b"))
    assert jwks.fetches == 2

    # A storm of junk kids right after: no refetch within the interval.
    for i in range(20):
        with pytest.raises(UnknownKey, match="no refetch within 10 s"):
            verifier.verify(sign(access_claims(clock.time()), kid=f"junk-{i}"))
    assert jwks.fetches == 2

    # Once the interval has passed, one more refetch, still unknown.
    clock.advance(11)
    with pytest.raises(UnknownKey, match="even after refetching"):
        verifier.verify(sign(access_claims(clock.time()), kid="junk-x"))
    with pytest.raises(UnknownKey):
        verifier.verify(sign(access_claims(clock.time()), kid="junk-y"))
    assert jwks.fetches == 3


def test_a_token_from_another_issuer_with_an_unknown_kid_causes_no_refetch(jwks, clock):
    verifier = verifier_for(jwks, clock, refetch_interval=0)
    verifier.verify(sign(access_claims(clock.time())))
    other = access_claims(clock.time(), iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other")
    for _ in range(5):
        with pytest.raises(WrongIssuer, match="another issuer"):
            verifier.verify(sign(other, key=KEY_B, kid="kid-of-other-pool"))
    assert jwks.fetches == 1


def test_a_token_without_kid_is_unknown_key(jwks, clock):
    token = jwt.encode(access_claims(clock.time()), KEY_A, algorithm="RS256")
    with pytest.raises(UnknownKey, match="no kid"):
        verifier_for(jwks, clock).verify(token)


def test_unreachable_jwks_is_reported(jwks, clock):
    jwks.status = 500
    with pytest.raises(JwksUnavailable, match="could not fetch"):
        verifier_for(jwks, clock).verify(sign(access_claims(clock.time())))


def test_fetch_every_time_mode_fetches_per_token(jwks, clock):
    verifier = verifier_for(jwks, clock, cache_jwks=False)
    token = sign(access_claims(clock.time()))
    for _ in range(3):
        verifier.verify(token)
    assert jwks.fetches == 3


# -- inspect(): reading, not verifying ----------------------------------------------------------
def test_inspect_shows_header_claims_and_times_relative_to_the_clock(clock):
    token = sign(access_claims(clock.time(), **{"cognito:groups": ["admin"]}))
    view = jwt_view.inspect(token, clock=clock)
    assert view.kind == "access" and view.header["kid"] == "kid-a" and view.claims["username"] == "alice"
    text = str(view)
    assert "NOT verified" in text and "expires in 60 min" in text and "UTC" in text and "admin" in text
    clock.advance(3600 + 180)
    later = jwt_view.inspect(token, clock=clock)
    assert "expired 3 min ago" in str(later) and later.expired is True and later.expires_in < 0


def test_inspect_has_an_html_table_for_jupyter(clock):
    view = jwt_view.inspect(sign(id_claims(clock.time(), name="<script>")), clock=clock)
    page = view._repr_html_()
    assert page.count("<tr>") == len(view.rows()) + 1 and "ID token" in page
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_inspect_does_not_verify_so_forgeries_are_shown_with_a_warning(clock):
    forged = forgeries.forge_alg_none(sign(access_claims(clock.time())), username="mallory")
    view = jwt_view.inspect(forged, clock=clock)
    assert view.claims["username"] == "mallory" and "alg is 'none'" in str(view)


def test_inspect_says_refresh_tokens_are_opaque_and_never_crashes():
    refresh = jwt_view.inspect("d9ed17e3-cc0e-45ee-8d10-3ed3cc667e97")
    assert "opaque" in refresh.kind and "Cognito" in str(refresh) and refresh.claims is None
    assert refresh.expired is None
    assert "opaque" in jwt_view.inspect("a.b.c.d.e").kind          # JWE-shaped, like AWS's
    assert jwt_view.inspect("a.b.c").kind == "not a JWT"
    assert jwt_view.inspect(None).kind == "not a token"


# -- the lab: its pools, keys, clock and revocation ---------------------------------------------
def test_lab_tokens_verify_and_the_jwks_is_fetched_once(cognito):
    verifier = CognitoVerifier.for_lab(cognito.lab, cognito.pool_id, cognito.client_id)
    result = cognito.sign_in()
    for _ in range(5):
        assert verifier.verify(result["AccessToken"])["username"] == "alice"
    assert verifier.jwks_fetches == 1
    id_verifier = CognitoVerifier.for_lab(cognito.lab, cognito.pool_id, cognito.client_id, token_use="id")
    assert id_verifier.verify(result["IdToken"])["email"] == "alice@example.com"


def test_lab_token_expires_on_the_lab_clock(cognito):
    verifier = CognitoVerifier.for_lab(cognito.lab, cognito.pool_id, cognito.client_id)
    token = cognito.sign_in()["AccessToken"]
    cognito.lab.clock.advance(minutes=59)
    assert verifier.verify(token)
    cognito.lab.clock.advance(minutes=2)
    with pytest.raises(TokenExpired):
        verifier.verify(token)
    assert "expired 1 min ago" in str(jwt_view.inspect(token, clock=cognito.lab.clock))


def test_app_client_token_validity_sets_exp(cognito):
    idp, lab = cognito.idp, cognito.lab
    short = idp.create_user_pool_client(
        UserPoolId=cognito.pool_id, ClientName="short", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
        AccessTokenValidity=5, TokenValidityUnits={"AccessToken": "minutes"})["UserPoolClient"]["ClientId"]
    token = cognito_session.sign_in_password(idp, short, "alice", cognito.password)["AccessToken"]
    verifier = CognitoVerifier.for_lab(lab, cognito.pool_id, short)
    lab.clock.advance(minutes=4)
    assert verifier.verify(token)
    lab.clock.advance(minutes=2)
    with pytest.raises(TokenExpired):
        verifier.verify(token)


def test_another_pools_token_is_wrong_issuer_and_its_key_is_not_ours(cognito):
    verifier = CognitoVerifier.for_lab(cognito.lab, cognito.pool_id, cognito.client_id)
    token = cognito.sign_in(client_id=cognito.other_pool_client_id)["AccessToken"]
    with pytest.raises(WrongIssuer):
        verifier.verify(token)
    ours = {k["kid"] for k in cognito.lab.user_pool_jwks(cognito.pool_id)["keys"]}
    assert jwt.get_unverified_header(token)["kid"] not in ours


def test_refresh_gives_new_tokens_after_the_access_token_expired(cognito):
    idp, lab = cognito.idp, cognito.lab
    verifier = CognitoVerifier.for_lab(lab, cognito.pool_id, cognito.client_id)
    first = cognito_session.sign_in_password(idp, cognito.client_id, "alice", cognito.password)
    lab.clock.advance(minutes=70)
    with pytest.raises(TokenExpired):
        verifier.verify(first["AccessToken"])
    fresh = cognito_session.refresh(idp, cognito.client_id, first["RefreshToken"])
    assert "RefreshToken" not in fresh
    assert verifier.verify(fresh["AccessToken"])["username"] == "alice"


def test_revoked_token_is_refused_by_cognito_but_still_verifies_locally_until_exp(cognito):
    idp, lab = cognito.idp, cognito.lab
    session = cognito_session.sign_in_password(idp, cognito.client_id, "alice", cognito.password)
    assert idp.get_user(AccessToken=session["AccessToken"])["Username"] == "alice"
    cognito_session.revoke(idp, cognito.client_id, session["RefreshToken"])
    with pytest.raises(ClientError) as caught:
        idp.get_user(AccessToken=session["AccessToken"])
    assert caught.value.response["Error"]["Code"] == "NotAuthorizedException"
    with pytest.raises(ClientError) as caught:
        cognito_session.refresh(idp, cognito.client_id, session["RefreshToken"])
    assert caught.value.response["Error"]["Code"] == "NotAuthorizedException"
    # Only Cognito knows about the revocation: a local JWT check still passes.
    verifier = CognitoVerifier.for_lab(lab, cognito.pool_id, cognito.client_id)
    assert verifier.verify(session["AccessToken"])


def test_sign_out_revokes_every_session_of_the_user(cognito):
    idp = cognito.idp
    laptop, phone = cognito.sign_in(), cognito.sign_in()
    cognito_session.sign_out(idp, phone["AccessToken"])
    for session in (laptop, phone):
        with pytest.raises(ClientError, match="NotAuthorizedException"):
            idp.get_user(AccessToken=session["AccessToken"])


def test_expired_access_token_is_refused_by_get_user(cognito):
    token = cognito.sign_in()["AccessToken"]
    cognito.lab.clock.advance(minutes=61)
    with pytest.raises(ClientError, match="NotAuthorizedException"):
        cognito.idp.get_user(AccessToken=token)


def test_helpers_with_a_client_secret(cognito):
    idp = cognito.idp
    client = idp.create_user_pool_client(
        UserPoolId=cognito.pool_id, ClientName="server", GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    cid, secret = client["ClientId"], client["ClientSecret"]
    with pytest.raises(ClientError, match="NotAuthorizedException"):
        cognito_session.sign_in_password(idp, cid, "alice", cognito.password)      # no SECRET_HASH
    session = cognito_session.sign_in_password(idp, cid, "alice", cognito.password, client_secret=secret)
    with pytest.raises(ValueError, match="username="):    # REFRESH_TOKEN_AUTH's SECRET_HASH needs it
        cognito_session.refresh(idp, cid, session["RefreshToken"], client_secret=secret, via="REFRESH_TOKEN_AUTH")
    assert "AccessToken" in cognito_session.refresh(idp, cid, session["RefreshToken"], client_secret=secret,
                                                    username="alice", via="REFRESH_TOKEN_AUTH")
    # GetTokensFromRefreshToken (the default) takes the ClientSecret itself
    fresh = cognito_session.refresh(idp, cid, session["RefreshToken"], client_secret=secret)
    assert CognitoVerifier.for_lab(cognito.lab, cognito.pool_id, cid).verify(fresh["AccessToken"])
    cognito_session.revoke(idp, cid, session["RefreshToken"], client_secret=secret)
    with pytest.raises(ClientError, match="NotAuthorizedException"):
        idp.get_user(AccessToken=fresh["AccessToken"])


def test_secret_hash_matches_the_documented_formula():
    # Base64(HMAC-SHA256(key=secret, msg=username + client_id)); value from `openssl dgst -hmac`.
    assert cognito_session.secret_hash("alice", "client", "secret") == "RTsve+FQ659UKyESgvLg9GYmZEL+QjzQsW/OjL77/b0="


# -- the timeline -------------------------------------------------------------------------------
def test_timeline_draws_one_bar_per_token_and_one_marker_per_event(cognito):
    import matplotlib
    matplotlib.use("Agg")
    from labkit.course.timeline import SessionTimeline

    idp, lab = cognito.idp, cognito.lab
    timeline = SessionTimeline(lab.clock)
    session = cognito_session.sign_in_password(idp, cognito.client_id, "alice", cognito.password)
    timeline.tokens(session, label="sign-in")
    timeline.event("sign-in")
    lab.clock.advance(minutes=65)
    timeline.tokens(cognito_session.refresh(idp, cognito.client_id, session["RefreshToken"]))
    timeline.event("refresh")
    lab.clock.advance(minutes=10)
    cognito_session.revoke(idp, cognito.client_id, session["RefreshToken"])
    timeline.event("revoke")
    assert "5 token(s), 3 event(s)" in repr(timeline)

    fig = timeline.plot()
    ax = fig.axes[0]
    gids = [p.get_gid() or "" for p in ax.patches]
    assert sum(g.endswith(tuple(f"-token-{i}" for i in range(9))) and not g.startswith("revoked")
               for g in gids) == 5
    # the revoke cut the refresh token and the second access and ID tokens (still unexpired)
    assert sorted(g.split("-")[1] for g in gids if g.startswith("revoked")) == ["access", "id", "refresh"]
    markers = [line.get_gid() for line in ax.lines if (line.get_gid() or "").startswith("event-")
               and not line.get_gid().startswith("event-line")]
    assert markers == ["event-sign-in-0", "event-refresh-1", "event-revoke-2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ID token", "access token", "refresh token"]
    fig.canvas.draw()     # renders without error


def test_timeline_sign_out_cuts_every_session(cognito):
    import matplotlib
    matplotlib.use("Agg")
    from labkit.course.timeline import SessionTimeline

    timeline = SessionTimeline(cognito.lab.clock)
    timeline.tokens(cognito.sign_in())
    timeline.tokens(cognito.sign_in(), label="second device")
    cognito.lab.clock.advance(minutes=5)
    timeline.event("sign-out")
    assert all(bar.revoked_at is not None for bar in timeline.bars)
    ax = timeline.plot().axes[0]
    assert sum((p.get_gid() or "").startswith("revoked") for p in ax.patches) == 6


def test_lab_verifier_uses_the_labs_keys_and_clock_and_no_process_wide_lab(cognito):
    """The verifier takes its keys from its caller: lab.verifier() hands it the lab's JWKS URL and
    clock; a verifier built without any points at AWS's URL, whatever lab is running."""
    from labkit.cognito.jwt import CognitoVerifier

    verifier = cognito.lab.verifier(cognito.pool_id, cognito.client_id)
    assert verifier.jwks_url == cognito.lab.jwks_url(cognito.pool_id)
    assert verifier.jwks_url.startswith("http://127.0.0.1:") and verifier.clock is cognito.lab.clock
    assert verifier.verify(cognito.sign_in()["AccessToken"])["username"] == "alice"
    plain = CognitoVerifier(cognito.pool_id, cognito.client_id)
    assert plain.jwks_url.startswith("https://cognito-idp.us-east-1.amazonaws.com/")


# -- keys handed over, offline (aws-jwt-verify's cacheJwks) ----------------------------------------
def test_a_jwks_document_verifies_without_any_fetch(clock):
    verifier = CognitoVerifier(POOL, CLIENT, jwks={"keys": [jwk(KEY_A, "kid-a")]}, clock=clock)
    assert verifier.verify(sign(access_claims(clock.time())))["username"] == "alice"
    assert verifier.jwks_fetches == 0 and verifier.jwks_url is None and "document" in repr(verifier)
    with pytest.raises(UnknownKey, match="not in the JWKS you gave"):
        verifier.verify(sign(access_claims(clock.time()), key=KEY_B, kid="kid-b"))


def test_a_jwks_document_with_a_url_refetches_for_an_unknown_kid(jwks, clock):
    jwks.keys = [jwk(KEY_A, "kid-a"), jwk(KEY_B, "kid-b")]
    verifier = CognitoVerifier(POOL, CLIENT, jwks={"keys": [jwk(KEY_A, "kid-a")]}, jwks_url=jwks.url, clock=clock)
    assert verifier.verify(sign(access_claims(clock.time())))
    assert jwks.fetches == 0
    assert verifier.verify(sign(access_claims(clock.time()), key=KEY_B, kid="kid-b"))
    assert jwks.fetches == 1


def test_a_jwks_document_that_is_not_one_is_refused_at_once():
    with pytest.raises(ValueError, match="not a usable JWKS"):
        CognitoVerifier(POOL, CLIENT, jwks={"nope": []})


# -- the error hierarchy ----------------------------------------------------------------------------
def test_errors_form_one_hierarchy_with_claim_details(jwks, clock):
    from labkit.cognito.jwt import InsufficientPermissions, InvalidClaim, SignatureError, SigningKeyError

    assert issubclass(AlgorithmNotAllowed, SignatureError) and issubclass(InvalidSignature, SignatureError)
    assert issubclass(UnknownKey, SigningKeyError) and issubclass(JwksUnavailable, SigningKeyError)
    for cls in (WrongIssuer, WrongTokenUse, WrongClient, TokenExpired, TokenNotYetValid):
        assert issubclass(cls, InvalidClaim) and not issubclass(cls, InsufficientPermissions)
    assert issubclass(MissingGroup, InsufficientPermissions) and issubclass(MissingScope, InsufficientPermissions)
    with pytest.raises(WrongClient) as caught:
        verifier_for(jwks, clock).verify(sign(access_claims(clock.time(), client_id="zz")))
    assert (caught.value.claim, caught.value.expected, caught.value.actual) == ("client_id", [CLIENT], "zz")
    with pytest.raises(WrongTokenUse) as caught:
        verifier_for(jwks, clock).verify(sign(id_claims(clock.time())))
    assert (caught.value.claim, caught.value.expected, caught.value.actual) == ("token_use", "access", "id")


def test_inspect_describes_a_refresh_token_instead_of_an_empty_table():
    """A refresh token is opaque (developer guide, "Refresh tokens"): inspect says what it is, how
    long it lives and where it may go, as text and as HTML, with one title and no empty table."""
    view = jwt_view.inspect("r" * 128)
    text = str(view)
    assert text.splitlines()[0] == "Refresh token" and text.count("Refresh token") == 1
    assert "128 characters" in text and "REFRESH_TOKEN_AUTH" in text and "RevokeToken" in text
    assert "never to your API" in text
    html = view._repr_html_()
    assert "<table" not in html and html.count("Refresh token") == 1 and "RefreshTokenValidity" in html
    assert all(len(line) <= 110 for line in text.splitlines())
    # a JWT still shows its table
    assert "<table" in jwt_view.inspect(jwt.encode({"token_use": "id"}, "k" * 32))._repr_html_()


def test_timeline_gives_each_sign_ins_refresh_token_its_own_row(cognito):
    """Two sign-ins (two refresh tokens, two sessions): each refresh token on its own row, so that a
    revoked session's hatch never lies on top of the other session's bar."""
    import matplotlib
    matplotlib.use("Agg")
    from labkit.course.timeline import SessionTimeline

    timeline = SessionTimeline(cognito.lab.clock)
    timeline.tokens(cognito.sign_in(), label="sign-in")
    cognito.lab.clock.advance(minutes=5)
    timeline.event("revoke")
    timeline.tokens(cognito.sign_in(), label="second sign-in")
    assert timeline.rows() == ["ID token", "access token", "refresh token 1 (sign-in)",
                               "refresh token 2 (second sign-in)"]
    ax = timeline.plot().axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == timeline.rows()
    refresh_rows = {round(p.get_y() + p.get_height() / 2) for p in ax.patches
                    if "refresh-token" in (p.get_gid() or "")}
    assert refresh_rows == {2, 3}
