"""The cognito-idp half of the lab's fidelity layer: what Cognito user pools do that moto doesn't.

- :mod:`.errors`  Cognito's exception names and messages.
- :mod:`.keys`    one RSA signing key per user pool, its JWKS, and token minting.
- :mod:`.state`   per-lab stores: codes, sessions, SRP attempts, TOTP secrets, tokens, lockout.
- :mod:`.flows`   the API actions the lab answers itself (sign-up, sign-in, MFA, revocation...).

:mod:`labkit.moto_patches.cognitoidp` wires these into moto; nothing here imports moto's
response layer, so the behaviour can be read apart from the wire format.
"""
