"""labkit.mfa: TOTP codes on the lab clock, QR codes, the 30-second window (lesson 04's helpers)."""
import struct
import zlib
from datetime import datetime, timezone

import matplotlib
import pyotp
import pytest
from botocore.exceptions import ClientError

matplotlib.use("Agg")

from labkit import Lab  # noqa: E402
from labkit.course import mfa  # noqa: E402
from labkit.clock import LabClock  # noqa: E402
from labkit.course.userpool import create_user_pool  # noqa: E402

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PASSWORD = "Passw0rd!"


class FixedClock:
    """A clock standing still at ``t`` (epoch seconds), with an offset like LabClock's."""

    def __init__(self, t: float, offset: float = 0.0) -> None:
        from datetime import timedelta

        self.t = t
        self.offset = timedelta(seconds=offset)

    def time(self) -> float:
        return self.t

    def advance(self, seconds: float = 0) -> datetime:
        self.t += seconds
        return datetime.fromtimestamp(self.t, tz=timezone.utc)


# -- URI and QR code --------------------------------------------------------------------------------
def test_otpauth_uri_follows_the_key_uri_format_and_round_trips():
    uri = mfa.otpauth_uri(SECRET, "alice@example.com", "Cognito Lab Kit")
    assert uri.startswith("otpauth://totp/Cognito%20Lab%20Kit:alice%40example.com?")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == SECRET and parsed.issuer == "Cognito Lab Kit"
    assert parsed.digits == 6 and parsed.interval == 30


def test_otpauth_uri_rejects_missing_parts():
    with pytest.raises(TypeError):
        mfa.otpauth_uri(None, "alice")
    with pytest.raises(ValueError):
        mfa.otpauth_uri(SECRET, "")


def test_redact_hides_only_the_secret():
    uri = mfa.otpauth_uri(SECRET, "alice", "Lab")
    assert mfa.redact(uri) == "otpauth://totp/Lab:alice?secret=<hidden>&issuer=Lab"
    assert SECRET not in mfa.redact(uri)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_qr_code_is_a_png_in_jupyter_and_secret_free_as_text(tmp_path):
    uri = mfa.otpauth_uri(SECRET, "alice")
    qr = mfa.qr_code(uri, box_size=4, border=4)
    assert SECRET not in repr(qr) and "<hidden>" in repr(qr)
    assert repr(qr) == repr(mfa.qr_code(uri))         # deterministic text output
    png = qr._repr_png_()
    side = len(qr.matrix) * 4
    assert _png_size(png) == (side, side)
    assert qr.size == 17 + 4 * qr.version
    qr.save(tmp_path / "qr.png")
    assert (tmp_path / "qr.png").read_bytes() == png
    # the terminal drawing has one line per two rows of modules, one character per module
    lines = qr.text().splitlines()
    assert len(lines) == (len(qr.matrix) + 1) // 2
    assert all(len(line) == len(qr.matrix) for line in lines)


def test_qr_code_matrix_has_the_three_finder_patterns():
    qr = mfa.qr_code(mfa.otpauth_uri(SECRET, "alice"))
    b, n = qr.border, qr.size
    for top, left in ((b, b), (b, b + n - 7), (b + n - 7, b)):
        ring = [qr.matrix[top][left + i] for i in range(7)] + [qr.matrix[top + 6][left + i] for i in range(7)]
        assert all(ring)                               # the finder's dark outer ring
        assert qr.matrix[top + 3][left + 3]            # and its dark centre
        assert not qr.matrix[top + 1][left + 1]        # with a light ring in between


def test_qr_code_wants_an_otpauth_uri():
    with pytest.raises(ValueError, match="otpauth"):
        mfa.qr_code(SECRET)


# -- codes ------------------------------------------------------------------------------------------
def test_code_for_is_pyotp_on_the_given_clock():
    t = 1_800_000_015
    expected = pyotp.TOTP(SECRET).at(t)
    assert mfa.code_for(SECRET, t) == expected
    assert mfa.code_for(SECRET, FixedClock(t)) == expected
    assert mfa.code_for(SECRET, datetime.fromtimestamp(t, tz=timezone.utc)) == expected
    with pytest.raises(TypeError):
        mfa.code_for(SECRET, "now")


def test_code_for_follows_an_advanced_lab_clock():
    clock = LabClock()
    clock.advance(hours=1)
    assert mfa.code_for(SECRET, clock) in {pyotp.TOTP(SECRET).at(clock.time() + d) for d in (-1, 0, 1)}


def test_ask_code_never_reads_input_unless_interactive(monkeypatch):
    monkeypatch.delenv(mfa.INTERACTIVE_ENV, raising=False)

    def no_input(prompt):
        raise AssertionError("input() must not be called in automated runs")

    assert mfa.ask_code("Code: ", default="123456", input_func=no_input) == "123456"
    assert mfa.ask_code("Code: ", default=lambda: "654321", input_func=no_input) == "654321"
    assert not mfa.interactive()
    with pytest.raises(ValueError, match=mfa.INTERACTIVE_ENV):
        mfa.ask_code("Code: ", input_func=no_input)


def test_ask_code_reads_the_keyboard_when_interactive(monkeypatch, capsys):
    monkeypatch.setenv(mfa.INTERACTIVE_ENV, "1")
    assert mfa.interactive()
    assert mfa.ask_code("Code: ", default="000000", input_func=lambda p: " 123 456 ") == "123456"
    assert mfa.ask_code("Code: ", default=lambda: "777777", input_func=lambda p: "") == "777777"
    assert capsys.readouterr().out == ""
    # a lab clock far ahead of real time: the phone's code will not match; say so
    mfa.ask_code("Code: ", default="1", clock=FixedClock(0, offset=90), input_func=lambda p: "")
    assert "ahead of real time" in capsys.readouterr().out


def test_app_code_is_pyotp_code_in_automated_runs(monkeypatch):
    monkeypatch.delenv(mfa.INTERACTIVE_ENV, raising=False)
    assert mfa.app_code(SECRET, FixedClock(1_800_000_000)) == pyotp.TOTP(SECRET).at(1_800_000_000)


# -- the window -------------------------------------------------------------------------------------
def test_steps_and_the_accepted_window():
    t = 1_800_000_000            # a multiple of 30
    assert mfa.step(t) == t // 30 and mfa.step(t + 29.9) == t // 30 and mfa.step(t + 30) == t // 30 + 1
    assert mfa.accepted_steps(t) == [t // 30 - 1, t // 30, t // 30 + 1]
    assert mfa.accepted_steps(t, window=0) == [t // 30]
    assert mfa.is_accepted(t - 30, t) and mfa.is_accepted(t + 30, t)
    assert not mfa.is_accepted(t - 31, t) and not mfa.is_accepted(t - 60, t)


def test_align_to_step_lands_just_after_a_step_boundary():
    clock = FixedClock(1_800_000_017.5)
    mfa.align_to_step(clock, margin=5)
    assert clock.time() == 1_800_000_035
    lab_clock = LabClock()
    mfa.align_to_step(lab_clock, margin=3)
    assert 3 <= lab_clock.time() % 30 < 4
    with pytest.raises(ValueError):
        mfa.align_to_step(clock, margin=30)


def test_wrong_code_is_refused_around_now():
    for t in range(1_800_000_000, 1_800_003_000, 7):
        code = mfa.wrong_code(SECRET, t)
        assert len(code) == 6 and code.isdigit()
        assert not pyotp.TOTP(SECRET).verify(code, for_time=t, valid_window=2)


def test_totp_window_plot_marks_accepted_and_refused_steps():
    import matplotlib.pyplot as plt

    t = 1_800_000_010
    fig = mfa.totp_window_plot(SECRET, t, marks={"old": t - 60, "recent": t - 30})
    try:
        texts = [x.get_text() for x in fig.axes[0].texts]
        assert texts.count("accepted") == 3 and texts.count("refused") == 3
        assert pyotp.TOTP(SECRET).at(t) in texts
        assert "old ✗" in texts and "recent ✓" in texts
        assert repr(fig).startswith("<Figure size 1000x320")
    finally:
        plt.close(fig)
    fig = mfa.totp_window_plot(None, t, window=0)
    try:
        texts = [x.get_text() for x in fig.axes[0].texts]
        assert texts.count("accepted") == 1 and not any(s.isdigit() and len(s) == 6 for s in texts)
    finally:
        plt.close(fig)


# -- against the lab --------------------------------------------------------------------------------
def test_the_lab_accepts_what_the_plot_says_it_accepts():
    """code_for + align_to_step + advance: ±1 step accepted, 2 steps ago refused (lesson 04's demo)."""
    with Lab(seed=4) as lab:
        up = create_user_pool(lab, "mfa")
        up.idp.set_user_pool_mfa_config(UserPoolId=up.pool_id, MfaConfiguration="OPTIONAL",
                                        SoftwareTokenMfaConfiguration={"Enabled": True})
        up.add_user("alice", PASSWORD)
        access = up.sign_in("alice", PASSWORD)["AccessToken"]
        secret = up.idp.associate_software_token(AccessToken=access)["SecretCode"]
        assert up.idp.verify_software_token(AccessToken=access, UserCode=mfa.app_code(secret, lab.clock))[
            "Status"] == "SUCCESS"
        up.idp.set_user_mfa_preference(AccessToken=access,
                                       SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})

        def answer(code):
            challenge = up.sign_in("alice", PASSWORD)
            assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
            return up.idp.respond_to_auth_challenge(
                ClientId=up.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=challenge["Session"],
                ChallengeResponses={"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": code})

        mfa.align_to_step(lab.clock)
        made_at = lab.clock.time()
        old = mfa.code_for(secret, lab.clock)
        lab.clock.advance(seconds=30)
        assert mfa.is_accepted(made_at, lab.clock)
        assert "AccessToken" in answer(old)["AuthenticationResult"]
        lab.clock.advance(seconds=30)
        assert not mfa.is_accepted(made_at, lab.clock)
        with pytest.raises(ClientError) as refused:
            answer(old)
        assert refused.value.response["Error"]["Code"] == "CodeMismatchException"
        with pytest.raises(ClientError) as wrong:
            answer(mfa.wrong_code(secret, lab.clock))
        assert wrong.value.response["Error"]["Message"] == "Invalid code received for user"
        assert "AccessToken" in answer(mfa.code_for(secret, lab.clock))["AuthenticationResult"]
