"""CUSTOM_AUTH: the define / create / verify loop of the custom authentication challenge triggers.

Developer guide, "Custom authentication challenge Lambda triggers":

1. InitiateAuth(AuthFlow=CUSTOM_AUTH, USERNAME) invokes DefineAuthChallenge with an empty
   ``session``. Its response says ``issueTokens`` (sign the user in), ``failAuthentication``
   (NotAuthorizedException) or names the next ``challengeName`` (CUSTOM_CHALLENGE).
2. For a challenge, CreateAuthChallenge returns ``publicChallengeParameters`` (sent to the client as
   ChallengeParameters), ``privateChallengeParameters`` (kept by Cognito, never sent) and
   ``challengeMetadata``; the client gets ChallengeName CUSTOM_CHALLENGE and a Session.
3. RespondToAuthChallenge(CUSTOM_CHALLENGE, ANSWER) invokes VerifyAuthChallengeResponse with the
   private parameters and the answer; its ``answerCorrect`` is appended to the session list
   (``challengeName``, ``challengeResult``, ``challengeMetadata``) and DefineAuthChallenge decides
   again with the whole list.

The lab runs CUSTOM_CHALLENGE rounds; a DefineAuthChallenge that asks for SRP_A / PASSWORD_VERIFIER
(password first, then custom challenges) is refused with a message saying so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import errors as E
from ...cognito.names import Challenge
from . import flows, triggers
from .state import ChallengeSession

CUSTOM_CHALLENGE = "CUSTOM_CHALLENGE"
NOT_CONFIGURED = "Custom auth lambda trigger is not configured for the user pool."


@dataclass
class CustomAuthRounds:
    """What Cognito keeps between rounds: the session list and the current challenge's private side."""

    username: str = ""
    user_exists: bool = True       # False: an unknown user, played along with (PreventUserExistenceErrors)
    rounds: list[dict] = field(default_factory=list)
    challenge_name: str = CUSTOM_CHALLENGE
    private: dict = field(default_factory=dict)
    metadata: str | None = None


def _require_triggers(pool) -> None:
    for trigger in ("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse"):
        if triggers.configured(pool, trigger) is None:
            raise E.invalid_parameter(NOT_CONFIGURED)


def initiate_auth(state, backend, params: dict, *, admin_pool_id: str | None = None) -> dict:
    """InitiateAuth / AdminInitiateAuth with AuthFlow CUSTOM_AUTH."""
    _flow, pool, client, auth = flows.initiate_checks(backend, params, admin_pool_id=admin_pool_id)
    return start(state, pool, client, auth)


def respond_to_auth_challenge(state, backend, params: dict, *, admin_pool_id: str | None = None) -> dict:
    """(Admin)RespondToAuthChallenge with ChallengeName CUSTOM_CHALLENGE."""
    pool, client = flows._pool_and_client(backend, params, admin_pool_id)
    return respond(state, pool, client, params)


def start(state, pool, client, auth: dict) -> dict:
    """The first round of CUSTOM_AUTH, once the flow's checks passed."""
    flows._require(auth, "USERNAME")
    username = auth["USERNAME"]
    flows.check_secret_hash(client, username, auth.get("SECRET_HASH"))
    _require_triggers(pool)
    user = pool._get_user(username)
    if user is None:
        if not flows._puee_enabled(client):
            raise flows._unknown_user(client)
        # "userNotFound … when PreventUserExistenceErrors is set to ENABLED": the triggers run as for
        # anyone, so that the answer cannot tell who exists; tokens are never issued.
        return _next(state, pool, client, None, CustomAuthRounds(username=str(username), user_exists=False))
    if not user.enabled:
        raise E.not_authorized(E.USER_DISABLED)
    if flows._status(user) == "UNCONFIRMED":
        raise E.CognitoError("UserNotConfirmedException", E.USER_NOT_CONFIRMED)
    triggers.pre_authentication(state, pool, client, user)
    return _next(state, pool, client, user, CustomAuthRounds(username=user.username))


def respond(state, pool, client, params: dict) -> dict:
    """RespondToAuthChallenge with ChallengeName CUSTOM_CHALLENGE and ChallengeResponses ANSWER."""
    responses = params.get("ChallengeResponses") or {}
    session_id = params.get("Session")
    session = flows._take_session(state, session_id, client, CUSTOM_CHALLENGE)
    rounds: CustomAuthRounds = session.custom
    user = pool._get_user(session.username) if rounds.user_exists else None
    flows.check_secret_hash(client, responses.get("USERNAME", session.username), responses.get("SECRET_HASH"))
    if user is None and rounds.user_exists:
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    answer = responses.get("ANSWER")
    if not isinstance(answer, str):
        raise E.invalid_parameter("Missing required parameter ANSWER")
    del state.sessions[session_id]            # a session answers one challenge
    response = triggers.invoke(
        state, pool, "VerifyAuthChallengeResponse", "VerifyAuthChallengeResponse_Authentication",
        username=rounds.username, client_id=client.id,
        request=_request(client, user, rounds, privateChallengeParameters=rounds.private, challengeAnswer=answer))
    correct = response.get("answerCorrect") if response else False
    if correct is not None and not isinstance(correct, bool):
        raise triggers.invalid_response()
    rounds.rounds.append({"challengeName": rounds.challenge_name, "challengeResult": bool(correct),
                          "challengeMetadata": rounds.metadata})
    return _next(state, pool, client, user, rounds)


def _request(client, user, rounds: CustomAuthRounds, **fields) -> dict:
    """A trigger request: userAttributes, the fields given, clientMetadata, and userNotFound when the
    client has PreventUserExistenceErrors ENABLED (the only time Cognito populates it)."""
    request = {"userAttributes": triggers.user_attributes(user) if user is not None else {}, **fields,
               "clientMetadata": triggers.client_metadata()}
    if flows._puee_enabled(client):
        request["userNotFound"] = not rounds.user_exists
    return request


def _next(state, pool, client, user, rounds: CustomAuthRounds) -> dict:
    """DefineAuthChallenge decides; then tokens, a refusal, or the next challenge."""
    session_list = [dict(r) for r in rounds.rounds]
    define = triggers.invoke(
        state, pool, "DefineAuthChallenge", "DefineAuthChallenge_Authentication", username=rounds.username,
        client_id=client.id, request=_request(client, user, rounds, session=session_list)) or {}
    issue = triggers._flag(define, "issueTokens")
    fail = triggers._flag(define, "failAuthentication")
    if fail:
        raise E.not_authorized(E.INCORRECT_CREDENTIALS)
    if issue:
        if user is None:                      # nobody to issue tokens to: as for a wrong password
            raise E.not_authorized(E.INCORRECT_CREDENTIALS)
        state.record_success(pool.id, user.username)
        return flows.mint_tokens(state, pool, client, user)
    name = define.get("challengeName")
    if name in (Challenge.PASSWORD_VERIFIER, "SRP_A"):
        raise E.invalid_parameter(f"The lab runs CUSTOM_CHALLENGE rounds only; DefineAuthChallenge asked for "
                                  f"{name} (password verification inside CUSTOM_AUTH), which it does not run.")
    if name != CUSTOM_CHALLENGE:
        raise triggers.invalid_response()
    create = triggers.invoke(
        state, pool, "CreateAuthChallenge", "CreateAuthChallenge_Authentication", username=rounds.username,
        client_id=client.id, request=_request(client, user, rounds, challengeName=name, session=session_list)) or {}
    public = triggers._string_map(create.get("publicChallengeParameters"))
    private = triggers._string_map(create.get("privateChallengeParameters"))
    metadata = create.get("challengeMetadata")
    if metadata is not None and not isinstance(metadata, str):
        raise triggers.invalid_response()
    rounds.challenge_name, rounds.private, rounds.metadata = name, dict(private), metadata
    session_id = _new_session(state, pool, client, rounds)
    parameters = {str(k): str(v) for k, v in public.items()}
    parameters["USERNAME"] = rounds.username
    return {"ChallengeName": CUSTOM_CHALLENGE, "Session": session_id, "ChallengeParameters": parameters}


def _new_session(state, pool, client, rounds: CustomAuthRounds) -> str:
    """A Session for the next answer (flows._new_session, without needing a user object)."""
    minutes = client.extended_config.get("AuthSessionValidity") or flows.AUTH_SESSION_MINUTES
    session_id = state.opaque(120)
    state.sessions[session_id] = ChallengeSession(pool.id, client.id, rounds.username, CUSTOM_CHALLENGE,
                                                  state.now() + 60 * minutes, custom=rounds)
    return session_id
