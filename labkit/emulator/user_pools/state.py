"""Per-lab state of the user-pool fidelity layer.

Everything time-dependent is stamped with the lab clock (epoch seconds), so advancing
``lab.clock`` expires codes, sessions, tokens and lockouts exactly as waiting would.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from ..keys import KeyRing

CODE_DIGITS = 6
SIGN_UP_CODE_TTL = 24 * 3600        # confirmation codes: 24 hours
ATTRIBUTE_CODE_TTL = 24 * 3600      # attribute verification codes: 24 hours
FORGOT_PASSWORD_CODE_TTL = 3600     # password-reset codes: 1 hour
# One-time sign-in codes (USER_AUTH EMAIL_OTP / SMS_OTP) have eight digits, a length Cognito does not
# let you change (aws-amplify/amplify-js#14428, "currently fixed at an 8 digit PIN"); they live as long
# as the sign-in session, the app client's AuthSessionValidity.
OTP_DIGITS = 8
LOCKOUT_AFTER = 5                   # failed sign-ins before the temporary lock starts
LOCKOUT_MAX_SECONDS = 15 * 60       # the lock doubles from 1 s up to about 15 minutes


def lockout_seconds(failures: int) -> float:
    """How long a user is locked right after their ``failures``-th failed sign-in in a row (0: not).

    The documented shape: after five failures, from 1 second, doubling, up to about 15 minutes.
    """
    if not isinstance(failures, int) or isinstance(failures, bool) or failures < 0:
        raise ValueError("failures is a count of failed sign-ins: 0, 1, 2, …")
    if failures < LOCKOUT_AFTER:
        return 0.0
    return float(min(2 ** min(failures - LOCKOUT_AFTER, 20), LOCKOUT_MAX_SECONDS))


@dataclass
class CodeRecord:
    code: str
    expires_at: float
    channel: str
    destination: str


@dataclass
class ChallengeSession:
    """What Cognito remembers between InitiateAuth and RespondToAuthChallenge."""

    pool_id: str
    client_id: str
    username: str
    challenge: str
    expires_at: float
    sms_code: str | None = None
    mfa_setup_verified: bool = False
    custom: Any = None             # CUSTOM_AUTH: the rounds so far (labkit.emulator.user_pools.custom_auth)
    # USER_AUTH (labkit.emulator.user_pools.passwordless)
    available: list[str] | None = None      # SELECT_CHALLENGE: what the user may choose
    otp_code: str | None = None             # EMAIL_OTP / SMS_OTP: the code sent
    otp_destination: str | None = None
    webauthn_challenge: bytes | None = None  # WEB_AUTHN: the challenge in CREDENTIAL_REQUEST_OPTIONS
    decoy: bool = False                     # an unknown user answered as if known: can never succeed


@dataclass
class SRPAttempt:
    pool_id: str
    client_id: str
    username: str | None           # None: unknown user answered with a decoy challenge
    server: Any                    # labkit.cognito.srp.SRPServerSession, or None for a decoy
    expires_at: float
    used: bool = False


@dataclass
class RefreshRecord:
    pool_id: str
    client_id: str
    username: str
    sub: str                       # a user deleted and re-created under the same name is someone else
    origin_jti: str
    auth_time: int
    expires_at: float
    # Refresh-token rotation (labkit.emulator.user_pools.rotation): when this token was rotated out
    # (None: never), and until when it still works after that (RetryGracePeriodSeconds).
    rotated_at: float | None = None
    grace_until: float | None = None


@dataclass
class AccessRecord:
    pool_id: str
    client_id: str
    username: str
    sub: str
    origin_jti: str
    expires_at: float


@dataclass
class Lockout:
    failures: int = 0
    locked_until: float = 0.0


@dataclass
class TotpSecret:
    secret: str
    verified: bool = False


@dataclass
class SignUpSession:
    """SignUp's ``Session``: ConfirmSignUp turns it into one that signs the user in with USER_AUTH."""

    pool_id: str
    client_id: str
    username: str
    expires_at: float
    confirmed: bool = False


@dataclass
class Passkey:
    """A registered WebAuthn credential (what Cognito keeps: never a private key)."""

    credential_id: bytes
    public_key: bytes              # COSE key, as the authenticator sent it
    sign_count: int
    rp_id: str
    created_at: float
    name: str
    transports: list[str] = field(default_factory=list)
    attachment: str | None = None
    user_verified: bool = False


@dataclass
class PasskeyRegistration:
    """StartWebAuthnRegistration's challenge, waiting for CompleteWebAuthnRegistration."""

    client_id: str
    challenge: bytes
    rp_id: str
    expires_at: float


@dataclass
class IdpState:
    """All per-lab stores, guarded by one lock (the lab's HTTP server is threaded)."""

    lab: Any
    keys: KeyRing = field(default_factory=KeyRing)
    lock: threading.RLock = field(default_factory=threading.RLock)
    codes: dict[tuple[str, str, str], CodeRecord] = field(default_factory=dict)   # (pool, user, purpose)
    sessions: dict[str, ChallengeSession] = field(default_factory=dict)
    srp_attempts: dict[str, SRPAttempt] = field(default_factory=dict)           # by SECRET_BLOCK
    refresh_tokens: dict[str, RefreshRecord] = field(default_factory=dict)
    access_tokens: dict[str, AccessRecord] = field(default_factory=dict)        # by jti
    revoked_origins: set[str] = field(default_factory=set)                      # origin_jti of revoked families
    lockouts: dict[tuple[str, str], Lockout] = field(default_factory=dict)
    temporary_passwords: dict[tuple[str, str], float] = field(default_factory=dict)   # issued at
    totp: dict[tuple[str, str], TotpSecret] = field(default_factory=dict)
    decoy_key: bytes = b""      # shapes decoy challenges; set in __post_init__ from the lab's seed
    # (pool, user) -> (salt, verifier v = g^x, sha256 of x): never the password itself
    srp_verifiers: dict[tuple[str, str], tuple[bytes, int, bytes]] = field(default_factory=dict)
    # (pool, user) -> [(salt, sha256 of x), …] of the passwords they had, newest first (PasswordHistorySize)
    password_history: dict[tuple[str, str], list[tuple[bytes, bytes]]] = field(default_factory=dict)
    # (pool, user's sub) -> {"email": new value, …}: changes waiting for verification
    # (UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate)
    pending_attributes: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    # (pool, user) of users who confirmed their sign-up with the code Cognito sent them and have not
    # signed in since: in a pool that requires MFA, that first sign-in gets tokens (the guide counts
    # the confirmed verification message as its second factor).
    first_sign_in_pending: set[tuple[str, str]] = field(default_factory=set)
    # the hosted UI and OAuth 2.0 endpoints' state (labkit.emulator.user_pools.oauth.OAuthState),
    # made on the first request to a domain's endpoints
    oauth: Any = None
    # SetUserPoolMfaConfig settings moto does not keep: pool id -> {"WebAuthnConfiguration": …, …}
    mfa_extras: dict[str, dict] = field(default_factory=dict)
    sign_up_sessions: dict[str, SignUpSession] = field(default_factory=dict)
    passkeys: dict[tuple[str, str], list[Passkey]] = field(default_factory=dict)        # (pool, user's sub)
    passkey_registrations: dict[tuple[str, str], PasskeyRegistration] = field(default_factory=dict)
    # user import jobs by job id (labkit.emulator.user_pools.imports.ImportJob)
    import_jobs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # From the seed without drawing on the lab's generator (so every other seeded value stays
        # as it was): two labs with the same seed answer an unknown user alike; unseeded, random.
        if not self.decoy_key:
            seed = getattr(self.lab, "seed", None)
            self.decoy_key = (hashlib.sha256(f"labkit:decoy:{seed}".encode()).digest() if seed is not None
                              else secrets.token_bytes(32))

    # -- randomness, all from the lab's (possibly seeded) generator -------------------------
    def code(self) -> str:
        return self.lab.random_digits(CODE_DIGITS)

    def opaque(self, nbytes: int = 48) -> str:
        return base64.urlsafe_b64encode(self.lab.random_bytes(nbytes)).decode().rstrip("=")

    def uuid(self) -> str:
        h = self.lab.random_bytes(16).hex()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"

    def now(self) -> float:
        return self.lab.clock.time()

    # -- lockout ------------------------------------------------------------------------------
    def is_locked(self, pool_id: str, username: str) -> bool:
        entry = self.lockouts.get((pool_id, username))
        return entry is not None and self.now() < entry.locked_until

    def record_failure(self, pool_id: str, username: str) -> None:
        entry = self.lockouts.setdefault((pool_id, username), Lockout())
        entry.failures += 1
        seconds = lockout_seconds(entry.failures)
        if seconds:
            entry.locked_until = self.now() + seconds

    def record_success(self, pool_id: str, username: str) -> None:
        self.lockouts.pop((pool_id, username), None)

    def forget_pool(self, pool_id: str) -> None:
        self.keys.forget(pool_id)
