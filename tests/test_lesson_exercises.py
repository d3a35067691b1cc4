"""The redesigned exercises of lessons 00-03, run from the committed notebooks: the model answer passes,
and a wrong answer (the decision the lesson is about, made wrongly) fails with a plain-words message.

Each notebook's code cells run in this process, in order, up to its last check cell; then each check
cell is run again with a wrong answer in place of the right one. The checks are the notebooks' own
cells, so a test here fails if a committed check stops catching the mistake.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import nbformat
import pytest

from labkit.course import environment
from labkit.course.exercises import ExerciseNotPassed

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


class Lesson:
    """A notebook run up to a cell, with its namespace; ``check(id)`` runs a check cell again."""

    def __init__(self, name: str, until: str) -> None:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        self.cells = {c.id: c.source for c in nb.cells if c.cell_type == "code"}
        self.namespace: dict = {}
        with contextlib.redirect_stdout(io.StringIO()) as self.output:
            for cell in nb.cells:
                if cell.cell_type == "code":
                    exec(compile(cell.source, f"{name}:{cell.id}", "exec"), self.namespace)
                if cell.id == until:
                    break

    def check(self, cell_id: str, **answers) -> str:
        """Run check cell ``cell_id`` with ``answers`` in place of the learner's; return what it printed,
        or raise ExerciseNotPassed."""
        saved = {name: self.namespace.get(name) for name in answers}
        self.namespace.update(answers)
        try:
            with contextlib.redirect_stdout(io.StringIO()) as out:
                exec(compile(self.cells[cell_id], cell_id, "exec"), self.namespace)
            return out.getvalue()
        finally:
            self.namespace.update(saved)

    def fails(self, cell_id: str, **answers) -> str:
        with pytest.raises(ExerciseNotPassed) as info:
            self.check(cell_id, **answers)
        return str(info.value)

    def close(self) -> None:
        self.namespace["lab"].stop()
        environment.allow_network()


@pytest.fixture(scope="module")
def welcome():
    lesson = Lesson("00_welcome.ipynb", until="welcome-24")
    yield lesson
    lesson.close()


@pytest.fixture(scope="module")
def pools():
    lesson = Lesson("01_user_pools_vs_identity_pools.ipynb", until="user_pools_vs_identity_pools-28")
    yield lesson
    lesson.close()


@pytest.fixture(scope="module")
def signup():
    lesson = Lesson("02_sign_up_sign_in_recovery.ipynb", until="signup-49")
    yield lesson
    lesson.close()


@pytest.fixture(scope="module")
def srp_lesson():
    lesson = Lesson("03_srp_deep_dive.ipynb", until="srp-deep-dive-45")
    yield lesson
    lesson.close()


def test_0_1_the_pool_is_named_by_its_id_not_its_name(welcome):
    """Every call names a user pool by its UserPoolId; the name is a label (CreateUserPool, DescribeUserPool)."""
    assert "✓ Exercise 0.1 passed" in welcome.check("welcome-18")
    message = welcome.fails("welcome-18", first_pool_id="first-pool")
    assert "'first-pool' is its name" in message and "Hint:" in message
    pool = welcome.namespace["response"]["UserPool"]
    assert "first_pool_id" in welcome.fails("welcome-18", first_pool_id=pool)      # the whole pool, not its id


def test_0_2_names_are_not_unique_so_keep_every_id(welcome):
    """Pool names need not be unique: two pools named orders, two ids."""
    assert "✓ Exercise 0.2 passed" in welcome.check("welcome-24")
    ids = welcome.namespace["orders_pool_ids"]
    assert len(ids) == 2
    assert "keep their ids in a list" in welcome.fails("welcome-24", orders_pool_ids=ids[0])
    assert "not names or whole pool dicts" in welcome.fails("welcome-24", orders_pool_ids=["orders", "orders"])
    assert "the ids in orders_pool_ids" in welcome.fails("welcome-24", orders_pool_ids=ids[:1])


def test_1_2_bob_needs_his_own_identity_and_his_own_credentials(pools):
    """GetId / GetCredentialsForIdentity with bob's ID token give his identity; his role writes only his folder."""
    assert "✓ Exercise 1.2 passed" in pools.check("user_pools_vs_identity_pools-28")
    admin_s3 = pools.namespace["lab"].client("s3")
    assert "bob_s3 must act as bob" in pools.fails("user_pools_vs_identity_pools-28", bob_s3=admin_s3)
    alice = pools.namespace["identity_id"]
    assert "bob's own identity" in pools.fails("user_pools_vs_identity_pools-28", bob_identity_id=alice)


def test_2_3_an_update_that_leaves_settings_out_resets_them(signup):
    """UpdateUserPoolClient resets every setting left out of the request (API reference, UpdateUserPoolClient)."""
    ns = signup.namespace
    assert "✓ Exercise 2.3 passed" in signup.check("signup-49")
    idp, shop = ns["idp"], ns["shop"]
    idp.update_user_pool_client(UserPoolId=shop.pool_id, ClientId=shop.client_id, PreventUserExistenceErrors="ENABLED")
    message = signup.fails("signup-49")
    assert "but these changed too" in message and "ExplicitAuthFlows: was" in message
    idp.update_user_pool_client(**{k: v for k, v in ns["client"].items()})          # back to LEGACY, all settings
    assert "PreventUserExistenceErrors" in signup.fails("signup-49")
    exec(compile(signup.cells["signup-48"], "signup-48", "exec"), ns)               # the model answer again
    assert "✓ Exercise 2.3 passed" in signup.check("signup-49")


def test_3_1_a_log_must_not_keep_the_password_or_the_tokens(srp_lesson):
    """USER_PASSWORD_AUTH sends the password; tokens come back in both flows; SRP values are public or single-use."""
    assert "✓ Exercise 3.1 passed" in srp_lesson.check("srp-deep-dive-10")
    assert "AccessToken, RefreshToken, IdToken are missing" in srp_lesson.fails("srp-deep-dive-10", must_not_log={"PASSWORD"})
    too_many = {"PASSWORD", "AccessToken", "IdToken", "RefreshToken", "SRP_A", "PASSWORD_CLAIM_SIGNATURE"}
    message = srp_lesson.fails("srp-deep-dive-10", must_not_log=too_many)
    assert "SRP_A can stay in the log" in message and "PASSWORD_CLAIM_SIGNATURE can stay" in message


def test_3_3_an_srp_sign_in_never_sends_the_password(srp_lesson):
    """USER_SRP_AUTH: InitiateAuth with SRP_A, then RespondToAuthChallenge PASSWORD_VERIFIER; no password sent."""
    ns = srp_lesson.namespace
    assert "✓ Exercise 3.3 passed" in srp_lesson.check("srp-deep-dive-45")
    by_password = ns["up"].sign_in("bob", ns["BOB_PASSWORD"])           # USER_PASSWORD_AUTH through idp
    assert "bob's password should never cross the wire" in srp_lesson.fails("srp-deep-dive-45", bob_tokens=by_password)
