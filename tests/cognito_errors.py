"""What a refused boto3 call answered: shared by the behaviour tests."""
import pytest
from botocore.exceptions import ClientError


def error_of(call, *args, **kwargs) -> tuple[str, str]:
    """Call ``call`` expecting a ClientError; return its (code, message)."""
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    err = exc.value.response["Error"]
    return err["Code"], err["Message"]
