"""User pools as Cognito runs them: what the lab does that moto doesn't, for cognito-idp.

- :mod:`.state`   per-lab stores: codes, sessions, SRP attempts, TOTP secrets, tokens, lockout.
- :mod:`.flows`   the API actions the lab answers itself (sign-up, sign-in, MFA, revocation...).
- :mod:`.policy`  the password policy, with Cognito's rules and messages.
- :mod:`.plans`   feature plans (UserPoolTier) and FeatureUnavailableInTierException.
- :mod:`.passwordless` choice-based sign-in (USER_AUTH): password, SRP, one-time codes, sign-in after sign-up.
- :mod:`.passkeys` passkeys: WebAuthnConfiguration, registration, the WEB_AUTHN challenge (py_webauthn).
- :mod:`.rotation` refresh-token rotation (RefreshTokenRotation, the grace period, RefreshTokenReuseException).
- :mod:`.imports` bulk import: GetCSVHeader and the user import jobs, with the guide's CSV rules.

Errors are :mod:`labkit.emulator.errors`; signing keys :mod:`labkit.emulator.keys`; the moto glue
that wires these in is :mod:`labkit.emulator.moto_patches.cognitoidp`. Nothing here imports moto's
response layer, so the behaviour can be read apart from the wire format.
"""
