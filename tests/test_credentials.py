"""labkit.course.credentials: AWS credentials shown redacted, with the expiry on the lab clock."""
from datetime import datetime, timedelta, timezone

import pytest
from dateutil.tz import tzlocal

from labkit import Lab
from labkit.course import setups
from labkit.course.credentials import redact_key, show_credentials
from labkit.course.userpool import create_user_pool

SECRET = "u3IaLY3ruVHwhMat/nB5NY67KAYVdlJ/p8sqMwKo"
TOKEN = "FQoGZXIvYXdzEBYaD86glhoT4g1TlvYW7rLJxXFRPbpHek3BggVRhVa7sEt" * 5


class StoppedClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def time(self) -> float:
        return self.t


def creds(expires_at: float, **extra) -> dict:
    expiration = datetime.fromtimestamp(expires_at, tz=timezone.utc).astimezone(tzlocal())   # as boto3 gives it
    return {"AccessKeyId": "ASIARZPUZDIKGTDC7YHW", "SecretKey": SECRET, "SessionToken": TOKEN,
            "Expiration": expiration, **extra}


def test_the_secret_and_session_token_never_show_in_text_or_html():
    view = show_credentials(creds(1_800_003_600), clock=StoppedClock(1_800_000_000))
    for shown in (str(view), repr(view), view._repr_html_()):
        assert SECRET not in shown and TOKEN[:20] not in shown and SECRET[:8] not in shown
        assert "ASIA…7YHW" in shown and "ASIARZPUZDIKGTDC7YHW" not in shown
        assert "tzlocal" not in shown
    text = str(view)
    assert "hidden (40 characters)" in text and f"hidden ({len(TOKEN)} characters)" in text
    assert "temporary, from STS" in text
    assert not any(value == SECRET for value in vars(view).values())       # not even kept


def test_expiry_is_in_utc_and_relative_to_the_given_clock():
    clock = StoppedClock(1_800_000_000)
    view = show_credentials(creds(clock.t + 3600), clock=clock)
    assert "2027-01-15 09:00:00 UTC, expires in 60 min on the lab clock" in str(view)
    assert view.expires_in == 3600 and view.expired is False
    clock.t += 3601
    later = show_credentials(creds(1_800_003_600), clock=clock)
    assert later.expired is True and "expired 1 s ago" in str(later)


def test_accepts_sts_names_the_whole_answer_and_refuses_other_things():
    sts_style = {"AccessKeyId": "AKIAEXAMPLE123456789", "SecretAccessKey": SECRET,
                 "Expiration": datetime(2030, 1, 1, tzinfo=timezone.utc)}
    view = show_credentials({"IdentityId": "us-east-1:x", "Credentials": sts_style})
    assert "long-term" in str(view) and "SessionToken  absent" in str(view)
    assert "in real time" in str(view)
    with pytest.raises(TypeError, match="Credentials dict"):
        show_credentials("ASIA...")
    assert redact_key("SHORT") == "SHORT"


def test_real_identity_pool_credentials_show_redacted_with_an_hour_left():
    """GetCredentialsForIdentity credentials live one hour (developer guide, "Identity pools
    (federated identities) authentication flow"); the view says so on the lab clock."""
    with Lab(seed=3) as lab:
        up = create_user_pool(lab, "photos")
        up.add_user("alice", "Passw0rd!x")
        ids = setups.identity_pool(lab, up)
        setups.private_s3_prefix(lab, ids, bucket="photo-app")
        answer = ids.credentials(up.sign_in("alice", "Passw0rd!x")["IdToken"])
        view = show_credentials(answer, clock=lab.clock)
        assert "expires in 60 min on the lab clock" in str(view)
        assert answer["Credentials"]["SecretKey"] not in str(view) + view._repr_html_()
        lab.clock.advance(hours=1, seconds=1)
        assert show_credentials(answer, clock=lab.clock).expired
