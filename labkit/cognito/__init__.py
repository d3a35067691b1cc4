"""A small Cognito client library: what an app or a backend needs to talk to Cognito correctly.

It imports nothing else of labkit (a test walks the imports), so it reads, and could ship, on its
own; it works the same against the lab and against AWS.

- :mod:`.srp`        SRP-6a exactly as Cognito runs it (client and server sides, inspectable).
- :mod:`.jwt`        reading tokens (``inspect``), verifying them (``CognitoVerifier``), why one failed.
- :mod:`.session`    SECRET_HASH and sign-in / refresh / revoke / sign-out over boto3.
- :mod:`.names`      auth flow, challenge, first-factor and feature-plan names.
- :mod:`.authenticator` a software passkey authenticator (``SoftwareAuthenticator``) for WebAuthn sign-in.
- :mod:`.passwords`  the password policy's rules and messages.
- :mod:`.lifetimes`  app-client token lifetimes: units, defaults, ranges.
- :mod:`.durations`  seconds in words, the one formatter.
- :mod:`.audit`      the pool auditor: a pool's settings against the sound-setup checklist (reads only).
- :mod:`.display`    how results show themselves: text for ``print``, HTML in Jupyter.
"""
