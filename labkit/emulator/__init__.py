"""The emulator: moto made to behave like Amazon Cognito wherever a lesson depends on it.

- :mod:`.user_pools`     user-pool behaviour moto lacks (SRP, codes, MFA, lifetimes, revocation,
                         Lambda triggers and CUSTOM_AUTH...).
- :mod:`.lambdas`        Lambda functions run from their zip in a Python subprocess (no Docker).
- :mod:`.identity_pools` identity pools: login checks, role choice, credentials, IAM enforcement.
- :mod:`.iam`            the IAM policy evaluator those credentials are checked with.
- :mod:`.keys`           RSA signing keys and JWKs.
- :mod:`.errors`         Cognito's exceptions as the wire carries them.
- :mod:`.moto_patches`   the only code that touches moto's internals, one module per service,
                         pinned to the tested moto version.
- :mod:`.validation`     every Cognito request checked against botocore's model first, as AWS does.
- :mod:`.server`         the lab's HTTP side (request hooks, then moto's dispatcher); never a 500 page.

It may use :mod:`labkit.cognito` (Cognito's own rules: passwords, lifetimes, SRP); it never
imports :mod:`labkit.course`. :class:`labkit.Lab` starts and stops it.
"""
