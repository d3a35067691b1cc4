"""Fails loudly when moto moves an internal that labkit's patches rely on (see labkit/moto_patches)."""
from labkit.emulator import moto_patches


def test_moto_is_the_tested_minor_version():
    assert moto_patches.moto_version().startswith(moto_patches.TESTED_MOTO + ".")


def test_patched_moto_internals_are_where_the_patches_expect_them():
    moto_patches.check_all()      # raises MotoInternalsChanged naming what moved


def test_patches_are_undone_when_the_lab_stops():
    from moto.cognitoidp.models import CognitoIdpUser
    from moto.cognitoidp.responses import CognitoIdpResponse

    from labkit import Lab

    before = (CognitoIdpUser.__dict__.get("password"), CognitoIdpResponse.__dict__.get("initiate_auth"))
    with Lab():
        assert isinstance(CognitoIdpUser.__dict__.get("password"), property)
        assert hasattr(CognitoIdpResponse, "revoke_token")
    after = (CognitoIdpUser.__dict__.get("password"), CognitoIdpResponse.__dict__.get("initiate_auth"))
    assert before == after
    assert not hasattr(CognitoIdpResponse, "revoke_token")


def test_the_internals_checker_reads_compiled_code_and_notices_a_moved_attribute():
    """check_internals reads moto's compiled code (cheap at every start): an attribute no longer
    assigned in __init__ is reported by name."""
    import pytest

    from labkit.emulator.moto_patches import MotoInternalsChanged
    from labkit.emulator.moto_patches._patcher import assigned_attributes, require_assigned

    class Pool:
        def __init__(self):
            self.id = 1
            other = object()
            other.name = "not self"        # not an attribute of the instance
            self.users = {}

    assert assigned_attributes(Pool.__init__) == ["id", "users"]
    require_assigned(Pool, "id", "users")
    with pytest.raises(MotoInternalsChanged, match="no longer sets clients"):
        require_assigned(Pool, "id", "clients")
