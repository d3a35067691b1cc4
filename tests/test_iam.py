"""labkit.iam: the policy evaluator and the request-to-action mapping, without a lab."""
import pytest

from labkit.emulator import iam

SUB = "${cognito-identity.amazonaws.com:sub}"
ME = {"cognito-identity.amazonaws.com:sub": "us-east-1:me"}


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def test_nothing_allowed_is_an_implicit_deny():
    decision = iam.evaluate([], "s3:GetObject", "arn:aws:s3:::b/k")
    assert not decision and decision.reason == "implicit-deny"
    assert decision.explain("s3:GetObject") == "because no identity-based policy allows the s3:GetObject action"


def test_explicit_deny_wins_over_any_allow():
    policies = [policy(allow("s3:*")), policy(deny("s3:DeleteObject", "arn:aws:s3:::b/*"))]
    assert iam.evaluate(policies, "s3:GetObject", "arn:aws:s3:::b/k").allowed
    decision = iam.evaluate(policies, "s3:DeleteObject", "arn:aws:s3:::b/k")
    assert decision.reason == "explicit-deny"
    assert decision.explain("s3:DeleteObject") == "with an explicit deny in an identity-based policy"


def test_actions_match_case_insensitively_with_wildcards():
    p = [policy(allow(["s3:Get*", "dynamodb:?etItem"]))]
    assert iam.evaluate(p, "S3:GETOBJECT", "x").allowed
    assert iam.evaluate(p, "dynamodb:GetItem", "x").allowed
    assert not iam.evaluate(p, "s3:PutObject", "x").allowed


def test_resources_match_case_sensitively_and_star_crosses_slashes():
    p = [policy(allow("s3:GetObject", "arn:aws:s3:::b/public/*"))]
    assert iam.evaluate(p, "s3:GetObject", "arn:aws:s3:::b/public/a/b/c.txt").allowed
    assert not iam.evaluate(p, "s3:GetObject", "arn:aws:s3:::b/Public/a.txt").allowed
    assert not iam.evaluate(p, "s3:GetObject", "arn:aws:s3:::b/private/a.txt").allowed


def test_not_action_and_not_resource():
    p = [policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"})]
    assert iam.evaluate(p, "s3:GetObject", "arn:aws:s3:::b/k").allowed
    assert not iam.evaluate(p, "iam:CreateUser", "*").allowed
    assert not iam.evaluate(p, "s3:GetObject", "arn:aws:s3:::secret/k").allowed


def test_the_identity_id_variable_gives_each_identity_its_own_folder():
    p = [policy(allow("s3:PutObject", f"arn:aws:s3:::b/private/{SUB}/*"))]
    assert iam.evaluate(p, "s3:PutObject", "arn:aws:s3:::b/private/us-east-1:me/x", ME).allowed
    assert not iam.evaluate(p, "s3:PutObject", "arn:aws:s3:::b/private/us-east-1:you/x", ME).allowed
    # No identity in the context (an IAM user, say): the statement does not match at all.
    assert not iam.evaluate(p, "s3:PutObject", "arn:aws:s3:::b/private/${cognito-identity.amazonaws.com:sub}/x").allowed


def test_variable_escapes_and_defaults():
    assert iam.matches_pattern(iam.substitute_variables("a${*}b", {}), "a*b")
    assert not iam.matches_pattern(iam.substitute_variables("a${*}b", {}), "axxb")
    assert iam.substitute_variables("${aws:username, 'nobody'}", {}) == "nobody"


@pytest.mark.parametrize("prefix, allowed", [("private/us-east-1:me/", True), ("private/us-east-1:me/sub/", True),
                                             ("private/", False), (None, False)])
def test_string_like_on_s3_prefix(prefix, allowed):
    p = [policy(allow("s3:ListBucket", "arn:aws:s3:::b",
                      Condition={"StringLike": {"s3:prefix": [f"private/{SUB}/", f"private/{SUB}/*"]}}))]
    context = dict(ME, **({"s3:prefix": prefix} if prefix is not None else {}))
    assert iam.evaluate(p, "s3:ListBucket", "arn:aws:s3:::b", context).allowed is allowed


def test_for_all_values_is_vacuously_true_for_a_missing_key():
    p = [policy(allow("dynamodb:*", "*", Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [SUB]}}))]
    assert iam.evaluate(p, "dynamodb:GetItem", "t", dict(ME, **{"dynamodb:LeadingKeys": ["us-east-1:me"]})).allowed
    assert not iam.evaluate(p, "dynamodb:GetItem", "t",
                            dict(ME, **{"dynamodb:LeadingKeys": ["us-east-1:me", "us-east-1:you"]})).allowed
    assert iam.evaluate(p, "dynamodb:Scan", "t", ME).allowed      # no leading keys at all: the classic pitfall


def test_for_any_value_needs_one_match_and_fails_on_a_missing_key():
    p = [policy(allow("sts:AssumeRoleWithWebIdentity", Condition={
        "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}))]
    amr = "cognito-identity.amazonaws.com:amr"
    assert iam.evaluate(p, "sts:AssumeRoleWithWebIdentity", "*", {amr: ["authenticated", "cognito-idp…"]}).allowed
    assert not iam.evaluate(p, "sts:AssumeRoleWithWebIdentity", "*", {amr: ["unauthenticated"]}).allowed
    assert not iam.evaluate(p, "sts:AssumeRoleWithWebIdentity", "*", {}).allowed


def test_missing_keys_negated_operators_if_exists_and_null():
    def ok(condition, context):
        return iam.evaluate([policy(allow("s3:GetObject", Condition=condition))], "s3:GetObject", "x", context).allowed

    assert not ok({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, {})
    assert ok({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, {})
    assert ok({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, {})
    assert not ok({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, {"aws:SourceVpc": "vpc-2"})
    assert ok({"Null": {"aws:SourceVpc": "true"}}, {})
    assert not ok({"Null": {"aws:SourceVpc": "true"}}, {"aws:SourceVpc": "vpc-1"})
    assert ok({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "true"})
    assert ok({"NumericLessThanEquals": {"s3:max-keys": "10"}}, {"s3:max-keys": "5"})
    assert ok({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, {"aws:CurrentTime": "2024-05-01T00:00:00Z"})
    assert ok({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.1.2.3"})
    # Keys and operators are ANDed, the values of one key ORed.
    assert not ok({"StringEquals": {"a": ["1", "2"], "b": "3"}}, {"a": "2", "b": "4"})
    assert ok({"StringEquals": {"a": ["1", "2"], "b": "3"}}, {"a": "2", "b": "3"})


def test_condition_key_names_are_case_insensitive():
    p = [policy(allow("s3:ListBucket", Condition={"StringEquals": {"S3:Prefix": "a/"}}))]
    assert iam.evaluate(p, "s3:ListBucket", "x", {"s3:prefix": "a/"}).allowed


def test_unknown_condition_operators_are_an_error():
    with pytest.raises(iam.PolicyError):
        iam.evaluate([policy(allow("s3:*", Condition={"StringSortOf": {"a": "b"}}))], "s3:GetObject", "x", {"a": "b"})


def test_trust_policies_match_the_principal_and_have_no_resource():
    trust = policy({"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool"}}})
    context = {"cognito-identity.amazonaws.com:aud": "us-east-1:pool"}
    federated = {"Federated": ["cognito-identity.amazonaws.com"]}
    assert iam.evaluate([trust], "sts:AssumeRoleWithWebIdentity", None, context, principal=federated).allowed
    assert not iam.evaluate([trust], "sts:AssumeRoleWithWebIdentity", None, context,
                            principal={"Federated": ["accounts.google.com"]}).allowed
    assert not iam.evaluate([trust], "sts:AssumeRoleWithWebIdentity", None,
                            {"cognito-identity.amazonaws.com:aud": "us-east-1:other"}, principal=federated).allowed


def test_policy_documents_may_be_json_text():
    text = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}'
    assert iam.evaluate([text], "s3:GetObject", "x").allowed
    assert iam.as_policy("%7B%22Statement%22%3A%20%5B%5D%7D") == {"Statement": []}


def test_session_policy_narrows_and_bucket_policy_widens():
    role = [policy(allow("s3:*", "arn:aws:s3:::b/*"))]
    session = policy(allow("s3:GetObject", "arn:aws:s3:::b/*"))
    assert iam.evaluate_with_session_policy(role, session, "s3:GetObject", "arn:aws:s3:::b/k", {}).allowed
    narrowed = iam.evaluate_with_session_policy(role, session, "s3:PutObject", "arn:aws:s3:::b/k", {})
    assert not narrowed and narrowed.explain("s3:PutObject") == "because no session policy allows the s3:PutObject action"
    bucket = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/R"},
                     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"})
    principal = {"AWS": ["arn:aws:iam::123456789012:role/R"]}
    assert iam.evaluate_with_session_policy([], None, "s3:GetObject", "arn:aws:s3:::other/k", {}, bucket, principal).allowed
    bucket_deny = policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"})
    denied = iam.evaluate_with_session_policy(role, None, "s3:GetObject", "arn:aws:s3:::b/k", {}, bucket_deny, principal)
    assert denied.reason == "explicit-deny" and "resource-based" in denied.explain("s3:GetObject")


# -- which action a request needs -------------------------------------------------------------------
@pytest.mark.parametrize("method, path, query, headers, expected", [
    ("GET", "/", {}, {}, [("s3:ListAllMyBuckets", "*")]),
    ("PUT", "/b", {}, {}, [("s3:CreateBucket", "arn:aws:s3:::b")]),
    ("DELETE", "/b", {}, {}, [("s3:DeleteBucket", "arn:aws:s3:::b")]),
    ("HEAD", "/b", {}, {}, [("s3:ListBucket", "arn:aws:s3:::b")]),
    ("GET", "/b", {"location": [""]}, {}, [("s3:GetBucketLocation", "arn:aws:s3:::b")]),
    ("PUT", "/b", {"policy": [""]}, {}, [("s3:PutBucketPolicy", "arn:aws:s3:::b")]),
    ("GET", "/b/k/x.txt", {}, {}, [("s3:GetObject", "arn:aws:s3:::b/k/x.txt")]),
    ("HEAD", "/b/k", {}, {}, [("s3:GetObject", "arn:aws:s3:::b/k")]),
    ("PUT", "/b/k", {}, {}, [("s3:PutObject", "arn:aws:s3:::b/k")]),
    ("DELETE", "/b/k", {}, {}, [("s3:DeleteObject", "arn:aws:s3:::b/k")]),
    ("GET", "/b/k", {"tagging": [""]}, {}, [("s3:GetObjectTagging", "arn:aws:s3:::b/k")]),
    ("POST", "/b/k", {"uploads": [""]}, {}, [("s3:PutObject", "arn:aws:s3:::b/k")]),
    ("DELETE", "/b/k", {"uploadId": ["1"]}, {}, [("s3:AbortMultipartUpload", "arn:aws:s3:::b/k")]),
    ("PUT", "/b/k", {}, {"x-amz-copy-source": "/src/a%20b.txt"},
     [("s3:GetObject", "arn:aws:s3:::src/a b.txt"), ("s3:PutObject", "arn:aws:s3:::b/k")]),
])
def test_s3_requests_map_to_actions_and_arns(method, path, query, headers, expected):
    assert [(r.action, r.resource) for r in iam.s3_requests(method, path, query, headers)] == expected


def test_s3_list_and_multi_delete_carry_their_keys():
    listing, = iam.s3_requests("GET", "/b", {"list-type": ["2"], "prefix": ["p/"], "delimiter": ["/"]}, {})
    assert listing.context == {"s3:prefix": "p/", "s3:delimiter": "/"}
    body = b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a</Key></Object><Object><Key>b/c</Key></Object></Delete>'
    assert [r.resource for r in iam.s3_requests("POST", "/b", {"delete": [""]}, {}, body)] == [
        "arn:aws:s3:::b/a", "arn:aws:s3:::b/b/c"]


def ddb(operation, body):
    return iam.dynamodb_requests(operation, body, region="us-east-1", account_id="123456789012",
                                 hash_key_of=lambda table: {"Notes": "owner"}.get(table))


def test_dynamodb_requests_carry_leading_keys():
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/Notes"
    r, = ddb("PutItem", {"TableName": "Notes", "Item": {"owner": {"S": "me"}, "n": {"N": "1"}}})
    assert (r.action, r.resource, r.context["dynamodb:LeadingKeys"]) == ("dynamodb:PutItem", table, ["me"])
    assert r.context["dynamodb:Attributes"] == ["n", "owner"]
    r, = ddb("Query", {"TableName": "Notes", "IndexName": "byDate", "KeyConditionExpression": "#o = :v AND d > :d",
                       "ExpressionAttributeNames": {"#o": "owner"},
                       "ExpressionAttributeValues": {":v": {"S": "me"}, ":d": {"S": "2024"}}})
    assert r.resource == table + "/index/byDate" and r.context["dynamodb:LeadingKeys"] == ["me"]
    r, = ddb("Query", {"TableName": "Notes", "KeyConditions": {"owner": {"AttributeValueList": [{"S": "me"}],
                                                                         "ComparisonOperator": "EQ"}}})
    assert r.context["dynamodb:LeadingKeys"] == ["me"]
    r, = ddb("Scan", {"TableName": "Notes"})
    assert "dynamodb:LeadingKeys" not in r.context
    assert [(r.action, r.context["dynamodb:LeadingKeys"]) for r in ddb("BatchWriteItem", {"RequestItems": {"Notes": [
        {"PutRequest": {"Item": {"owner": {"S": "a"}}}}, {"DeleteRequest": {"Key": {"owner": {"S": "b"}}}}]}})] == [
        ("dynamodb:PutItem", ["a"]), ("dynamodb:DeleteItem", ["b"])]
    assert [r.action for r in ddb("TransactWriteItems", {"TransactItems": [
        {"Update": {"TableName": "Notes", "Key": {"owner": {"S": "a"}}}},
        {"ConditionCheck": {"TableName": "Notes", "Key": {"owner": {"S": "a"}}}}]})] == [
        "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]
    r, = ddb("ListTables", {})
    assert r.resource == "*"
