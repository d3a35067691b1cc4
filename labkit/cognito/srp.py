"""Cognito's SRP-6a (USER_SRP_AUTH), small enough to read and exact enough to interoperate.

Why bother with SRP?
--------------------
With USER_PASSWORD_AUTH the password itself travels to Cognito (inside TLS). With
USER_SRP_AUTH it never does, not even hashed. At sign-up Cognito derives and keeps two
numbers: a random *salt* and a *verifier* ``v = g^x mod N``, where ``x`` is a hash of the
salt and the password. ``v`` is useless for signing in: turning it back into ``x`` is a
discrete logarithm in a 3072-bit group. At sign-in both sides run a Diffie-Hellman-like
exchange into which the client mixes ``x`` and the server mixes ``v``; they reach the same
secret ``S`` only if the password was right. The client then proves it holds ``S`` by
signing a server-chosen blob, and the server checks the signature. Someone watching the
wire sees A, B, the salt and one HMAC: nothing they can test password guesses against
offline without also breaking the server's private ``b``. (A *stolen* salt and verifier do
allow offline guessing, one g^x per guess: SRP protects the wire, not weak passwords.)

The steps, with the names the API uses
--------------------------------------
0. Sign-up (once): random ``salt``; ``x = H(pad(salt) ‖ H(pool_name ‖ user_id ‖ ":" ‖
   password))``; ``v = g^x mod N``. The server stores salt and v, never the password.
1. Client: random private ``a``, public ``A = g^a mod N``, sent as ``SRP_A`` to InitiateAuth.
2. Server: random private ``b``, public ``B = (k·v + g^b) mod N``; it answers with the
   PASSWORD_VERIFIER challenge: ``SALT, SRP_B, SECRET_BLOCK, USER_ID_FOR_SRP, USERNAME``.
3. Both: scrambler ``u = H(pad(A) ‖ pad(B))``; abort if u = 0.
4. Client: ``S = (B − k·g^x)^(a + u·x) mod N``. Server: ``S = (A·v^u)^b mod N``.
5. Both: ``key = HKDF-SHA256(ikm=pad(S), salt=pad(u), info="Caldera Derived Key")[:16]``.
6. Client: ``PASSWORD_CLAIM_SIGNATURE = Base64(HMAC-SHA256(key, pool_name ‖ user_id ‖
   SECRET_BLOCK ‖ TIMESTAMP))``, sent with TIMESTAMP to RespondToAuthChallenge.
7. Server: recomputes the HMAC with its own key and compares; equal means the client knew x.

Why both sides get the same S: ``B − k·g^x = g^b``, so the client computes
``g^(b(a+ux))``; the server computes ``(g^a · g^(xu))^b``, the same power of g.

Cognito-specific details (all needed to interoperate with Amplify / pycognito):

* group: RFC 3526 / RFC 5054 3072-bit prime ``N``, generator ``g = 2``, hash SHA-256;
* "pad" means Amplify's *hex* padding (see :func:`pad_hex`), not RFC 5054's padding to the
  length of N; ``k = H(pad(N) ‖ pad(g))`` and ``u = H(pad(A) ‖ pad(B))`` hash the bytes of
  those padded hex strings;
* ``x`` mixes in the pool name (the part of the pool id after ``_``) and USER_ID_FOR_SRP;
* instead of standard SRP's proofs M1/M2 the client signs ``SECRET_BLOCK`` and a timestamp
  with a key derived by HKDF (see :func:`standard_srp6a_demo` for the side-by-side).

Usage::

    client = CognitoSRP(pool_id, "alice", "Passw0rd!")
    # InitiateAuth(AuthFlow="USER_SRP_AUTH", AuthParameters=client.auth_parameters())
    # -> ChallengeParameters
    responses = client.challenge_responses(challenge_parameters)
    # RespondToAuthChallenge(ChallengeName="PASSWORD_VERIFIER", ChallengeResponses=responses)
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timezone

__all__ = [
    "N", "g", "k", "N_HEX", "G_HEX", "INFO",
    "pool_name", "pad_hex", "hash_hex", "hash_bytes", "hex_to_int", "int_to_hex",
    "format_timestamp", "parse_timestamp",
    "compute_x", "compute_verifier", "compute_u", "compute_key", "compute_signature",
    "new_salt", "new_secret_block",
    "CognitoSRP", "SRPServerSession",
    "srptools_context", "standard_srp6a_demo",
]

# --- the group ----------------------------------------------------------------------
# The 3072-bit MODP prime of RFC 3526 section 4 (also RFC 5054 appendix A), exactly what
# amazon-cognito-identity-js / Amplify and pycognito use. srptools ships the same prime as
# srptools.constants.PRIME_3072 but pairs it with generator 5 (PRIME_3072_GEN = '5', the
# RFC 5054 choice); Cognito uses g = 2. Any value derived with g = 5 will not interoperate.
N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
G_HEX = "2"
N = int(N_HEX, 16)
g = int(G_HEX, 16)

INFO = b"Caldera Derived Key"  # HKDF "info" string, fixed by Cognito

# Private exponents a and b: 128 random bytes, as Amplify and pycognito draw them.
_PRIVATE_BITS = 1024


# --- encoding helpers ---------------------------------------------------------------
def int_to_hex(value: int) -> str:
    """Lower-case hex without leading zeros or padding (what Amplify's toString(16) gives)."""
    if value < 0:
        raise ValueError("SRP values are non-negative integers")
    return format(value, "x")


def hex_to_int(hex_str: str) -> int:
    try:
        return int(hex_str, 16)
    except (TypeError, ValueError):
        raise ValueError(f"not a hex string: {hex_str!r}") from None


def pad_hex(value: int | str) -> str:
    """Amplify's padding rule, applied before hex values are hashed or turned into bytes.

    The hex string is read as a *signed* big-endian number (Java's BigInteger.toByteArray
    convention, which the first Cognito SDKs used), so:

    * odd length -> prepend "0" (whole bytes);
    * first digit 8-f -> prepend "00" (else the top bit would read as a minus sign).

    Getting this wrong makes sign-in fail for roughly half of all A/B/S values, which is
    the classic "works sometimes" SRP interop bug.
    """
    hex_str = int_to_hex(value) if isinstance(value, int) else value
    if not isinstance(hex_str, str) or not hex_str:
        raise ValueError(f"pad_hex needs an int or a non-empty hex string, got {value!r}")
    if len(hex_str) % 2 == 1:
        return "0" + hex_str
    if hex_str[0] in "89abcdefABCDEF":
        return "00" + hex_str
    return hex_str


def hash_bytes(data: bytes | str) -> str:
    """SHA-256 of raw bytes (str is UTF-8 encoded), as 64 hex digits."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def hash_hex(hex_str: str) -> str:
    """SHA-256 of the *bytes* a hex string denotes, as 64 hex digits (Amplify's hexHash)."""
    return hashlib.sha256(bytes.fromhex(hex_str)).hexdigest()


# k = H(pad(N) ‖ pad(g)), computed once: every B and every client S needs it.
k = int(hash_hex(pad_hex(N_HEX) + pad_hex(G_HEX)), 16)


def pool_name(user_pool_id: str) -> str:
    """"us-east-1_AbC123" -> "AbC123" (the part after "_"; the region is not hashed)."""
    if not isinstance(user_pool_id, str) or "_" not in user_pool_id:
        raise ValueError(f"user pool id must look like '<region>_<name>', got {user_pool_id!r}")
    name = user_pool_id.split("_", 1)[1]
    if not name:
        raise ValueError(f"user pool id has nothing after '_': {user_pool_id!r}")
    return name


# --- timestamps -----------------------------------------------------------------------
# Spelled out rather than strftime("%a %b"), which follows the process locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIMESTAMP_RE = re.compile(
    r"(?P<wd>[A-Z][a-z]{2}) (?P<mon>[A-Z][a-z]{2}) (?P<day>[1-9]|[12][0-9]|3[01]) "
    r"(?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2}) UTC (?P<y>[0-9]{4})")


def format_timestamp(dt: datetime | None = None) -> str:
    """Cognito's TIMESTAMP, e.g. "Sat Jan 1 00:00:00 UTC 2022".

    The day of the month is *not* zero-padded (Cognito rejects "Jan 01"); names are English
    whatever the locale. ``dt`` may be aware (converted to UTC) or naive (taken as UTC);
    None means the real current time.
    """
    if dt is None:
        dt = datetime.now(timezone.utc)
    elif dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return (f"{_DAYS[dt.weekday()]} {_MONTHS[dt.month - 1]} {dt.day} "
            f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} UTC {dt.year}")


def parse_timestamp(text: str) -> datetime:
    """Inverse of :func:`format_timestamp` (aware UTC datetime); strict, for the server side.

    Raises ValueError for any other shape, a zero-padded day, or a weekday that does not
    match the date.
    """
    m = _TIMESTAMP_RE.fullmatch(text) if isinstance(text, str) else None
    if not m or m["wd"] not in _DAYS or m["mon"] not in _MONTHS:
        raise ValueError(f"TIMESTAMP must look like 'Sat Jan 1 00:00:00 UTC 2022', got {text!r}")
    dt = datetime(int(m["y"]), _MONTHS.index(m["mon"]) + 1, int(m["day"]),
                  int(m["h"]), int(m["m"]), int(m["s"]), tzinfo=timezone.utc)
    if _DAYS[dt.weekday()] != m["wd"]:
        raise ValueError(f"TIMESTAMP weekday does not match its date: {text!r}")
    return dt


# --- the SRP values -------------------------------------------------------------------
def _salt_to_int(salt: bytes | str | int) -> int:
    # Amplify reads SALT as a number (new BigInteger(SALT, 16)) and re-pads it, so leading
    # zero bytes never matter. Our server sends pad_hex(salt), which pycognito (which pads
    # the string as received) hashes identically.
    if isinstance(salt, (bytes, bytearray)):
        return int.from_bytes(salt, "big")
    if isinstance(salt, int):
        if salt < 0:
            raise ValueError("salt must be non-negative")
        return salt
    return hex_to_int(salt)


def compute_x(user_pool_id: str, user_id: str, password: str, salt: bytes | str | int) -> int:
    """x = H(pad(salt) ‖ H(pool_name ‖ user_id ‖ ":" ‖ password)), the private key.

    ``user_id`` is USER_ID_FOR_SRP (Cognito's internal name for the user, which may differ
    from what was typed as USERNAME); ``salt`` is bytes, a hex string or an int.
    """
    inner = hash_bytes(f"{pool_name(user_pool_id)}{user_id}:{password}")
    return int(hash_hex(pad_hex(_salt_to_int(salt)) + inner), 16)


def compute_verifier(user_pool_id: str, user_id: str, password: str,
                     salt: bytes | str | int) -> int:
    """v = g^x mod N: what the server stores instead of the password."""
    return pow(g, compute_x(user_pool_id, user_id, password, salt), N)


def compute_u(A: int, B: int) -> int:
    """u = H(pad(A) ‖ pad(B)): binds the session to both public values."""
    return int(hash_hex(pad_hex(A) + pad_hex(B)), 16)


def compute_key(S: int, u: int) -> bytes:
    """HKDF-SHA256(ikm=pad(S), salt=pad(u), info="Caldera Derived Key"), first 16 bytes.

    16 bytes is less than one SHA-256 block, so HKDF's expand step is a single HMAC over
    info ‖ 0x01 (this is RFC 5869 exactly; cryptography's HKDF(length=16) gives the same).
    """
    prk = hmac.new(bytes.fromhex(pad_hex(u)), bytes.fromhex(pad_hex(S)), hashlib.sha256).digest()
    return hmac.new(prk, INFO + b"\x01", hashlib.sha256).digest()[:16]


def compute_signature(key: bytes, user_pool_id: str, user_id: str,
                      secret_block_b64: str, timestamp: str) -> str:
    """Base64(HMAC-SHA256(key, pool_name ‖ user_id ‖ SECRET_BLOCK bytes ‖ TIMESTAMP))."""
    try:
        secret_block = base64.b64decode(secret_block_b64, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ValueError("SECRET_BLOCK is not valid base64") from None
    msg = (pool_name(user_pool_id).encode("utf-8") + user_id.encode("utf-8")
           + secret_block + timestamp.encode("utf-8"))
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode("ascii")


# --- randomness -----------------------------------------------------------------------
def new_salt(rng=None) -> bytes:
    """16 random bytes. ``rng`` is a random.Random (seeded, for reproducible notebooks) or
    None for the secrets module. Never use a seeded rng for anything real."""
    return rng.randbytes(16) if rng is not None else secrets.token_bytes(16)


def new_secret_block(rng=None, nbytes: int = 64) -> str:
    """A base64 SECRET_BLOCK. Real Cognito's is an opaque encrypted blob (~1.5 kB) holding
    its session state; for the signature only "the client signs what the server sent"
    matters."""
    raw = rng.randbytes(nbytes) if rng is not None else secrets.token_bytes(nbytes)
    return base64.b64encode(raw).decode("ascii")


def _new_private(rng=None) -> int:
    while True:
        value = (rng.getrandbits(_PRIVATE_BITS) if rng is not None
                 else secrets.randbits(_PRIVATE_BITS)) % N
        if value:  # a = 0 would make A = 1 and S predictable
            return value


def _short(value) -> str:
    if value is None:
        return "None"
    text = value.hex() if isinstance(value, bytes) else int_to_hex(value)
    return text[:8] + "…" if len(text) > 8 else text


def _as_timestamp(timestamp) -> str:
    if timestamp is None or isinstance(timestamp, datetime):
        return format_timestamp(timestamp)
    if isinstance(timestamp, str):
        return timestamp
    raise TypeError(f"timestamp must be a datetime, a formatted string or None, not {timestamp!r}")


# --- the two parties ------------------------------------------------------------------
class CognitoSRP:
    """The client side of USER_SRP_AUTH, as Amplify and pycognito do it.

    After :meth:`challenge_responses` the intermediate values are attributes, for teaching:
    ``a, A, B, u, x, v (= g^x), S, key, signature, timestamp, user_id, salt``. The password
    is kept (it is needed once the salt arrives) but never shown by repr.
    """

    def __init__(self, pool_id: str, username: str, password: str, a: int | None = None, *,
                 rng=None):
        self.pool_id = pool_id
        self.pool_name = pool_name(pool_id)
        self.username = username
        self._password = password
        if a is None:
            a = _new_private(rng)
        elif not isinstance(a, int) or a <= 0:
            raise ValueError("a must be a positive integer")
        self.a = a
        self.A = pow(g, a, N)                                     # pow 1 of 3 (client)
        if self.A % N == 0:  # cannot happen with g = 2, checked because the protocol says so
            raise ValueError("SRP safety check failed: A mod N == 0")
        self.srp_a = int_to_hex(self.A)
        self.B = self.u = self.x = self.v = self.S = self.key = None
        self.salt = self.user_id = self.timestamp = self.signature = None

    def auth_parameters(self) -> dict:
        """AuthParameters for InitiateAuth(AuthFlow="USER_SRP_AUTH")."""
        return {"USERNAME": self.username, "SRP_A": self.srp_a}

    def challenge_responses(self, challenge_parameters: dict, timestamp=None) -> dict:
        """ChallengeResponses for the PASSWORD_VERIFIER challenge.

        ``timestamp``: datetime, an already formatted string, or None for now (real UTC).
        """
        p = challenge_parameters
        try:
            salt, srp_b, secret_block, user_id = (
                p["SALT"], p["SRP_B"], p["SECRET_BLOCK"], p["USER_ID_FOR_SRP"])
        except KeyError as e:
            raise ValueError(f"PASSWORD_VERIFIER challenge parameters lack {e.args[0]}") from None
        B = hex_to_int(srp_b)
        if B % N == 0:  # RFC 5054: the client MUST abort; no honest server sends it
            raise ValueError("SRP safety check failed: B mod N == 0")
        u = compute_u(self.A, B)
        if u == 0:  # else S would not depend on x, i.e. on the password
            raise ValueError("SRP safety check failed: u == 0")

        x = compute_x(self.pool_id, user_id, self._password, salt)
        v = pow(g, x, N)                                          # pow 2 of 3 (client)
        S = pow((B - k * v) % N, self.a + u * x, N)               # pow 3 of 3 (client)
        key = compute_key(S, u)
        ts = _as_timestamp(timestamp)
        signature = compute_signature(key, self.pool_id, user_id, secret_block, ts)

        self.B, self.u, self.x, self.v, self.S, self.key = B, u, x, v, S, key
        self.salt, self.user_id, self.timestamp, self.signature = salt, user_id, ts, signature
        return {
            "USERNAME": p.get("USERNAME", self.username),
            "TIMESTAMP": ts,
            "PASSWORD_CLAIM_SECRET_BLOCK": secret_block,
            "PASSWORD_CLAIM_SIGNATURE": signature,
        }

    def __repr__(self) -> str:
        return (f"CognitoSRP(pool={self.pool_name!r}, username={self.username!r}, "
                f"A={_short(self.A)}, B={_short(self.B)}, u={_short(self.u)}, "
                f"S={_short(self.S)}, key={_short(self.key)})")


class SRPServerSession:
    """Cognito's side of one USER_SRP_AUTH attempt.

    Built from what the server stored at sign-up (salt, verifier) and the client's SRP_A;
    computes B at once, and (since A is already known) u, S and the key too. Values are
    attributes for inspection: ``b, B, u, S, key``.
    """

    def __init__(self, pool_id: str, user_id: str, salt: bytes | str | int, verifier: int | str,
                 srp_a: str, *, b: int | None = None, rng=None):
        self.pool_id = pool_id
        self.pool_name = pool_name(pool_id)
        self.user_id = user_id
        self.salt_hex = pad_hex(_salt_to_int(salt))
        self.verifier = hex_to_int(verifier) if isinstance(verifier, str) else verifier
        if not isinstance(self.verifier, int) or not 0 < self.verifier < N:
            raise ValueError("verifier must be an integer in 1..N-1")
        self.A = hex_to_int(srp_a)
        if self.A % N == 0:  # else S = 0 for every password: anyone could sign in
            raise ValueError("SRP safety check failed: A mod N == 0")
        if b is None:
            b = _new_private(rng)
        elif not isinstance(b, int) or b <= 0:
            raise ValueError("b must be a positive integer")
        self.b = b
        # B hides g^b behind k·v, so only someone who knows x (v = g^x) can strip it off.
        self.B = (k * self.verifier + pow(g, b, N)) % N           # pow 1 of 3 (server)
        self.srp_b = int_to_hex(self.B)
        self.u = compute_u(self.A, self.B)
        if self.u == 0:
            raise ValueError("SRP safety check failed: u == 0")
        # Reduce A·v^u before the big exponentiation: smaller base, same result.
        self.S = pow(self.A * pow(self.verifier, self.u, N) % N, b, N)  # pows 2 and 3
        self.key = compute_key(self.S, self.u)

    def challenge_parameters(self, secret_block_b64: str, username: str | None = None) -> dict:
        """The PASSWORD_VERIFIER ChallengeParameters Cognito returns from InitiateAuth."""
        return {
            "SALT": self.salt_hex,
            "SRP_B": self.srp_b,
            "SECRET_BLOCK": secret_block_b64,
            "USER_ID_FOR_SRP": self.user_id,
            "USERNAME": self.user_id if username is None else username,
        }

    def expected_signature(self, secret_block_b64: str, timestamp: str) -> str:
        return compute_signature(self.key, self.pool_id, self.user_id, secret_block_b64,
                                 timestamp)

    def verify(self, signature_b64: str, secret_block_b64: str, timestamp: str) -> bool:
        """True iff the client's PASSWORD_CLAIM_SIGNATURE matches (constant-time compare).

        A signature that is not base64 is simply wrong (False); a SECRET_BLOCK that is not
        base64 raises ValueError (it should have been checked as the server's own blob).
        """
        expected = base64.b64decode(self.expected_signature(secret_block_b64, timestamp))
        try:
            given = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, TypeError, ValueError):
            return False
        return hmac.compare_digest(given, expected)

    def __repr__(self) -> str:
        # no pool name: the session is found through its pool, and a lab pool name is 32 characters long
        return (f"SRPServerSession(user_id={self.user_id!r}, "
                f"A={_short(self.A)}, B={_short(self.B)}, u={_short(self.u)}, "
                f"S={_short(self.S)}, key={_short(self.key)})")


# --- standard SRP-6a, for comparison --------------------------------------------------
def srptools_context(username: str, password: str | None = None):
    """An srptools SRPContext on Cognito's group: same N, SHA-256, and g = 2 (srptools'
    own default for this prime would be 5)."""
    from srptools import SRPContext
    from srptools.constants import PRIME_3072

    assert int(PRIME_3072, 16) == N  # same prime; only the generator differs
    return SRPContext(username, password, prime=PRIME_3072, generator=G_HEX,
                      hash_func=hashlib.sha256)


def standard_srp6a_demo(username: str = "alice", password: str = "Passw0rd!",
                        user_pool_id: str = "us-east-1_Example", rng=None) -> dict:
    """Run textbook SRP-6a (srptools) and Cognito's variant on the same group and password.

    Returns a dict: ``standard`` and ``cognito`` each report whether client and server
    agreed and what they computed; ``differences`` lists, in words, where Cognito departs
    from RFC 5054 SRP-6a. The arithmetic core (A, B, S) is the same in both.
    """
    from srptools import SRPClientSession, SRPServerSession as _StdServer

    salt = new_salt(rng)
    # Standard SRP-6a: x = H(salt ‖ H(I ‖ ":" ‖ P)), no pool name.
    ctx = srptools_context(username, password)
    std_verifier = ctx.get_common_password_verifier(ctx.get_common_password_hash(salt))
    std_server = _StdServer(srptools_context(username), password_verifier=std_verifier,
                            private=_new_private(rng))
    std_client = SRPClientSession(ctx, private=_new_private(rng))
    std_client.process(std_server.public, salt.hex())
    std_server.process(std_client.public, salt.hex())
    standard = {
        "k": ctx._mult,  # srptools: k = H(N ‖ PAD(g)), padded to the byte length of N
        "key": std_client.key_bin,  # K = H(S), 32 bytes
        "M1": std_client.key_proof,  # client proof, checked by the server
        "M2": std_server.key_proof_hash,  # server proof, checked by the client
        "client_server_agree": (std_client.key_bin == std_server.key_bin
                                and std_server.verify_proof(std_client.key_proof)
                                and std_client.verify_proof(std_server.key_proof_hash)),
    }

    # Cognito: same group and shape, different x, key and proof.
    verifier = compute_verifier(user_pool_id, username, password, salt)
    client = CognitoSRP(user_pool_id, username, password, rng=rng)
    server = SRPServerSession(user_pool_id, username, salt, verifier, client.srp_a, rng=rng)
    secret_block = new_secret_block(rng)
    ts = "Sat Jan 1 00:00:00 UTC 2022"
    resp = client.challenge_responses(server.challenge_parameters(secret_block), timestamp=ts)
    cognito = {
        "k": k,  # k = H(pad_hex(N) ‖ pad_hex(g)): g padded to one byte only
        "key": client.key,  # HKDF(...)[:16], 16 bytes
        "PASSWORD_CLAIM_SIGNATURE": resp["PASSWORD_CLAIM_SIGNATURE"],
        "client_server_agree": (client.S == server.S and
                                server.verify(resp["PASSWORD_CLAIM_SIGNATURE"], secret_block, ts)),
    }
    return {
        "standard": standard,
        "cognito": cognito,
        "same_verifier": std_verifier == verifier,  # False: x is derived differently
        "differences": [
            "x: standard H(salt ‖ H(I:P)); Cognito H(pad(salt) ‖ H(pool_name ‖ user_id:P))",
            "padding: standard pads A, B, g to the byte length of N (RFC 5054); Cognito "
            "pads hex minimally (odd length -> '0', first digit 8-f -> '00')",
            "k: hence a different multiplier, although both are H(N ‖ g)",
            "key: standard K = H(S); Cognito HKDF-SHA256(S, salt=u, 'Caldera Derived Key')[:16]",
            "proof: standard M1 = H(H(N)^H(g) ‖ H(I) ‖ s ‖ A ‖ B ‖ K), M2 = H(A ‖ M1 ‖ K); "
            "Cognito: HMAC(key, pool_name ‖ user_id ‖ SECRET_BLOCK ‖ TIMESTAMP) from the "
            "client only (the server answers with tokens, not a proof)",
        ],
    }
