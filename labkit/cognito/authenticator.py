"""A software passkey authenticator: it plays the learner's phone in the lab.

``SoftwareAuthenticator`` does what a platform authenticator and the browser in front of it do for
``navigator.credentials.create()`` and ``navigator.credentials.get()``: it makes an ES256 key pair per
relying party, answers registration with attestation ``"none"``, and signs assertions over the
authenticator data and the hash of the client data, with the sign count it keeps. The JSON it returns
is what Cognito takes (RegistrationResponseJSON for CompleteWebAuthnRegistration, AuthenticationResponseJSON
as ``CREDENTIAL`` in RespondToAuthChallenge). CBOR goes through py_webauthn's own helpers.

What a real platform authenticator adds, and this one does not: the private key lives in a secure
enclave or TPM and never leaves it (here it is a Python object); user verification is a biometric or
PIN check (here a flag, ``user_verified``); passkeys sync between a person's devices through their
account (here nothing syncs: ``backed_up`` is false); and the browser refuses on its own to use a
passkey for a site whose origin does not match the relying party. The lab leaves that last check to
the server, so that you can watch Cognito refuse a phished assertion (``origin=`` another site).

    phone = SoftwareAuthenticator(seed=7)
    credential = phone.create(options, origin="https://auth.example.com")   # StartWebAuthnRegistration's options
    answer = phone.get(request_options, origin="https://auth.example.com")  # CREDENTIAL_REQUEST_OPTIONS
"""
from __future__ import annotations

import base64
import hashlib
import json
import random
import struct
from dataclasses import dataclass, field

__all__ = ["SoftwareAuthenticator", "StoredCredential", "FLAG_UP", "FLAG_UV", "FLAG_AT"]

FLAG_UP = 0x01      # user present: someone touched or looked at the device
FLAG_UV = 0x04      # user verified: biometric or PIN
FLAG_AT = 0x40      # attested credential data follows (registration)
# An authenticator model id of zeros: "none" attestation says nothing about the device.
AAGUID = bytes(16)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class StoredCredential:
    """One passkey the authenticator holds: for which relying party and user, and its private key."""

    credential_id: bytes
    rp_id: str
    user_handle: bytes
    user_name: str
    private_key: object = field(repr=False)
    sign_count: int = 0

    @property
    def id(self) -> str:
        """The credential id as base64url (Cognito's ``CredentialId``)."""
        return _b64url(self.credential_id)


class SoftwareAuthenticator:
    """A passkey authenticator in software (see the module docstring for what it leaves out).

    ``seed`` makes keys and credential ids reproducible (signatures stay randomised, as ECDSA's are).
    ``user_verified``: whether it reports a biometric / PIN check (the UV flag); ``user_present``
    likewise for the UP flag (a real authenticator always asks for a touch).
    """

    def __init__(self, *, seed: int | None = None, user_verified: bool = True, user_present: bool = True,
                 attachment: str = "platform") -> None:
        self._rng = random.Random(seed)
        self.user_verified = user_verified
        self.user_present = user_present
        self.attachment = attachment
        self.credentials: list[StoredCredential] = []

    def __repr__(self) -> str:
        held = ", ".join(f"{c.user_name}@{c.rp_id}" for c in self.credentials) or "no passkeys"
        return f"<SoftwareAuthenticator: {held}>"

    # -- helpers ------------------------------------------------------------------------------
    def _flags(self, *extra: int) -> int:
        flags = (FLAG_UP if self.user_present else 0) | (FLAG_UV if self.user_verified else 0)
        for flag in extra:
            flags |= flag
        return flags

    def _new_key(self):
        from cryptography.hazmat.primitives.asymmetric import ec

        order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551   # P-256's group order
        return ec.derive_private_key(self._rng.randrange(1, order), ec.SECP256R1())

    @staticmethod
    def _cose_key(private_key) -> bytes:
        from webauthn.helpers import encode_cbor

        numbers = private_key.public_key().public_numbers()
        # COSE_Key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y
        return encode_cbor({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    @staticmethod
    def _options(options) -> dict:
        if isinstance(options, str):
            options = json.loads(options)
        if not isinstance(options, dict):
            raise TypeError("options must be the JSON (str or dict) of the WebAuthn options Cognito returned")
        return options.get("publicKey", options)

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False},
                          separators=(",", ":")).encode()

    # -- navigator.credentials.create() ------------------------------------------------------
    def create(self, options, origin: str, *, rp_id: str | None = None) -> dict:
        """Register a new passkey from ``CredentialCreationOptions``, as the page at ``origin`` would.

        Returns RegistrationResponseJSON. ``rp_id`` overrides the options' relying party (to show
        what the server does with a passkey made for another site).
        """
        from webauthn.helpers import encode_cbor

        opts = self._options(options)
        rp = rp_id or (opts.get("rp") or {}).get("id")
        if not rp:
            raise ValueError("the options name no relying party (rp.id)")
        excluded = {c.get("id") for c in opts.get("excludeCredentials") or []}
        if any(c.id in excluded and c.rp_id == rp for c in self.credentials):
            raise ValueError("InvalidStateError: this authenticator already holds a passkey for this account")
        user = opts.get("user") or {}
        key = self._new_key()
        credential = StoredCredential(credential_id=self._rng.getrandbits(256).to_bytes(32, "big"), rp_id=rp,
                                      user_handle=_unb64url(user.get("id", "")), user_name=user.get("name", ""),
                                      private_key=key)
        attested = AAGUID + struct.pack(">H", len(credential.credential_id)) + credential.credential_id
        auth_data = (hashlib.sha256(rp.encode()).digest() + bytes([self._flags(FLAG_AT)])
                     + struct.pack(">I", credential.sign_count) + attested + self._cose_key(key))
        client_data = self._client_data("webauthn.create", opts["challenge"], origin)
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        self.credentials.append(credential)
        return {"id": credential.id, "rawId": credential.id, "type": "public-key",
                "authenticatorAttachment": self.attachment, "clientExtensionResults": {},
                "response": {"clientDataJSON": _b64url(client_data), "attestationObject": _b64url(attestation),
                             "transports": ["internal"] if self.attachment == "platform" else ["usb"]}}

    # -- navigator.credentials.get() ---------------------------------------------------------
    def get(self, options, origin: str, *, rp_id: str | None = None) -> dict:
        """Sign in with a passkey from ``CREDENTIAL_REQUEST_OPTIONS``, as the page at ``origin`` would.

        Returns AuthenticationResponseJSON (send it as ``CREDENTIAL``). ``rp_id`` signs with the
        relying party hash of another site; the credential used is still the one the options allow.
        """
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        opts = self._options(options)
        rp = opts.get("rpId")
        allowed = [c.get("id") for c in opts.get("allowCredentials") or []]
        candidates = [c for c in self.credentials if c.rp_id == rp and (not allowed or c.id in allowed)]
        if not candidates:
            raise LookupError(f"NotAllowedError: this authenticator holds no passkey for {rp!r} among those allowed")
        credential = candidates[0]
        credential.sign_count += 1
        auth_data = (hashlib.sha256((rp_id or rp).encode()).digest() + bytes([self._flags()])
                     + struct.pack(">I", credential.sign_count))
        client_data = self._client_data("webauthn.get", opts["challenge"], origin)
        signature = credential.private_key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                                ec.ECDSA(hashes.SHA256()))
        return {"id": credential.id, "rawId": credential.id, "type": "public-key",
                "authenticatorAttachment": self.attachment, "clientExtensionResults": {},
                "response": {"clientDataJSON": _b64url(client_data), "authenticatorData": _b64url(auth_data),
                             "signature": _b64url(signature), "userHandle": _b64url(credential.user_handle)}}
