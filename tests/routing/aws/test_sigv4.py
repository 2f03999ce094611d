"""The SigV4 verifier, without a server: AWS's published test-suite vectors, and requests signed by
botocore's own signer (accepted as signed, refused once anything signed changes)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.aws import sigv4
from routing.aws.errors import (
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    UnrecognizedClient,
)

# AWS's Signature Version 4 test suite (as mirrored in botocore's tests/unit/auth/aws4_testsuite):
# these credentials, this date, region us-east-1, service "service", host example.amazonaws.com.
SUITE_KEY_ID = "AKIDEXAMPLE"
SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE_DATE = "20150830T123600Z"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SUITE = [
    ("get-vanilla", "GET", "",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("post-vanilla", "POST", "",
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ("get-vanilla-query-order-key", "GET", "Param1=value2&Param1=Value1",
     "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
    ("get-vanilla-query-order-key-case", "GET", "Param2=value2&Param1=value1",
     "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
]

KEY_ID = "CSAKTESTTESTTESTTEST"
SECRET = "a-secret-of-forty-characters-0123456789"
REGION = "us-east-1"
NOW = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)


def suite_request(method: str, query: str) -> sigv4.HttpRequest:
    return sigv4.HttpRequest(method=method, path="/", query_string=query, body=b"", headers={
        "host": "example.amazonaws.com", "x-amz-date": SUITE_DATE})


@pytest.mark.parametrize(("name", "method", "query", "expected"), SUITE,
                         ids=[case[0] for case in SUITE])
def test_aws_test_suite_vectors(name: str, method: str, query: str, expected: str) -> None:
    authorization = sigv4.parse_authorization(
        f"AWS4-HMAC-SHA256 Credential={SUITE_KEY_ID}/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={expected}")
    request = suite_request(method, query)
    assert sigv4.signature(SUITE_SECRET, authorization, SUITE_DATE, request) == expected


def test_canonical_request_of_get_vanilla() -> None:
    canonical = sigv4.canonical_request(suite_request("GET", ""), ("host", "x-amz-date"))
    assert canonical == (
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        f"host;x-amz-date\n{EMPTY_SHA256}"
    )


def test_canonical_uri_and_query() -> None:
    assert sigv4.canonical_uri("") == "/"
    assert sigv4.canonical_uri("/a/./b/../c//d/") == "/a/c/d/"
    # Non-S3 services encode the path as sent once more: %20 becomes %2520.
    assert sigv4.canonical_uri("/a%20b/") == "/a%2520b/"
    assert sigv4.canonical_query_string("b=2&a=%7E&a=1&c") == "a=1&a=~&b=2&c="


def sign_with_botocore(
    *, path: str = "/aws/events", query: str = "", body: bytes = b"{}",
    headers: dict[str, str] | None = None, region: str = REGION, service: str = "events",
    secret: str = SECRET, when: datetime = NOW, monkeypatch: pytest.MonkeyPatch,
) -> sigv4.HttpRequest:
    """A request signed by botocore, as a server would receive it."""
    url = f"http://bus.example.test:8000{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method="POST", url=url, data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.PutEvents",
        **(headers or {})})
    monkeypatch.setattr(botocore.auth, "get_current_datetime",
                        lambda: when.astimezone(UTC).replace(tzinfo=None))
    SigV4Auth(Credentials(KEY_ID, secret), service, region).add_auth(request)
    prepared = request.prepare()
    sent = urlsplit(prepared.url)
    received = {name.lower(): value for name, value in prepared.headers.items()}
    received["host"] = sent.netloc
    return sigv4.HttpRequest(method="POST", path=sent.path, query_string=sent.query,
                             headers=received, body=prepared.body or b"")


def verify(request: sigv4.HttpRequest, *, now: datetime = NOW) -> sigv4.Authorization:
    return sigv4.verify(request, secret_for={KEY_ID: SECRET}.get, region=REGION,
                        service="events", now=now)


def test_a_request_signed_by_botocore_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    request = sign_with_botocore(monkeypatch=monkeypatch, body=b'{"Entries": []}')
    authorization = verify(request)
    assert authorization.access_key_id == KEY_ID
    assert "x-amz-target" in authorization.signed_headers


_segment = st.text(min_size=1, max_size=8).filter(lambda text: text not in {".", ".."})
_query_part = st.text(max_size=6)
_header_name = st.from_regex(r"x-test-[a-z0-9]{1,6}", fullmatch=True)
_header_value = st.from_regex(r"[!-~]([ !-~]{0,20}[!-~])?", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(
    segments=st.lists(_segment, max_size=4),
    query=st.lists(st.tuples(_query_part, _query_part), max_size=4),
    headers=st.dictionaries(_header_name, _header_value, max_size=4),
    body=st.binary(max_size=200),
)
def test_any_request_botocore_signs_verifies_and_any_change_is_caught(
    segments: list[str], query: list[tuple[str, str]], headers: dict[str, str], body: bytes,
) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        path = "/" + "/".join(quote(segment, safe="") for segment in segments)
        query_string = "&".join(f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}"
                                for name, value in query)
        request = sign_with_botocore(path=path, query=query_string, headers=headers, body=body,
                                     monkeypatch=monkeypatch)
    verify(request)
    changed = [
        dataclasses.replace(request, body=body + b" "),
        dataclasses.replace(request, method="PUT"),
        dataclasses.replace(request, path=path + "x"),
        dataclasses.replace(request, query_string=query_string + "&extra=1"),
        dataclasses.replace(request, headers={**request.headers,
                                              "x-amz-target": "AWSEvents.DeleteRule"}),
        dataclasses.replace(request, headers={**request.headers, "host": "evil.example.test"}),
    ]
    if headers:
        name = next(iter(headers))
        changed.append(dataclasses.replace(request, headers={**request.headers,
                                                             name: headers[name] + "!"}))
    for tampered in changed:
        with pytest.raises(InvalidSignature, match="signature we calculated does not match"):
            verify(tampered)


def test_header_whitespace_is_folded_as_aws_does(monkeypatch: pytest.MonkeyPatch) -> None:
    request = sign_with_botocore(headers={"X-Test-Spaces": "a   b  c"}, monkeypatch=monkeypatch)
    refolded = dataclasses.replace(request, headers={**request.headers,
                                                     "x-test-spaces": "  a b    c "})
    verify(refolded)


def test_wrong_secret_and_unknown_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidSignature):
        verify(sign_with_botocore(secret=SECRET + "x", monkeypatch=monkeypatch))
    request = sign_with_botocore(monkeypatch=monkeypatch)
    with pytest.raises(UnrecognizedClient, match="security token included in the request"):
        sigv4.verify(request, secret_for=lambda key: None, region=REGION, service="events",
                     now=NOW)


def test_scope_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidSignature, match="scoped to a valid region"):
        verify(sign_with_botocore(region="eu-west-1", monkeypatch=monkeypatch))
    with pytest.raises(InvalidSignature, match="scoped to correct service: 'events'"):
        verify(sign_with_botocore(service="sqs", monkeypatch=monkeypatch))
    request = sign_with_botocore(monkeypatch=monkeypatch)
    next_day = (NOW + timedelta(days=1)).strftime(sigv4.AMZ_DATE_FORMAT)
    with pytest.raises(InvalidSignature, match="Date in Credential scope does not match"):
        verify(dataclasses.replace(request, headers={**request.headers, "x-amz-date": next_day}),
               now=NOW + timedelta(days=1))


@pytest.mark.parametrize(("offset", "accepted"), [
    (timedelta(minutes=4, seconds=59), True),
    (timedelta(minutes=-4, seconds=-59), True),
    (timedelta(minutes=5, seconds=1), False),
    (timedelta(minutes=-5, seconds=-1), False),
])
def test_clock_skew_window_is_5_minutes(monkeypatch: pytest.MonkeyPatch, offset: timedelta,
                                         accepted: bool) -> None:
    request = sign_with_botocore(when=NOW + offset, monkeypatch=monkeypatch)
    if accepted:
        verify(request)
    else:
        with pytest.raises(InvalidSignature, match=r"Signature (expired|not yet current)"):
            verify(request)


def test_missing_and_incomplete_signatures(monkeypatch: pytest.MonkeyPatch) -> None:
    request = sign_with_botocore(monkeypatch=monkeypatch)
    unsigned = {k: v for k, v in request.headers.items() if k != "authorization"}
    with pytest.raises(MissingAuthenticationToken):
        verify(dataclasses.replace(request, headers=unsigned))
    with pytest.raises(IncompleteSignature, match="Presigned URLs are not accepted"):
        verify(dataclasses.replace(request, headers=unsigned,
                                   query_string="X-Amz-Signature=abc"))
    no_date = {k: v for k, v in request.headers.items() if k != "x-amz-date"}
    with pytest.raises(IncompleteSignature, match="X-Amz-Date"):
        verify(dataclasses.replace(request, headers=no_date))
    with pytest.raises(IncompleteSignature, match="ISO-8601 'basic format'"):
        verify(dataclasses.replace(request, headers={**request.headers,
                                                     "x-amz-date": "2026-11-29T09:30:00Z"}))
    # The target picks the action: it must be signed, or a captured request could be replayed
    # as another action.
    suite = suite_request("POST", "")
    authorization = ("AWS4-HMAC-SHA256 Credential=CSAKTESTTESTTESTTEST/20150830/us-east-1/events/"
                     "aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
    with pytest.raises(IncompleteSignature, match="'x-amz-target' must be a 'SignedHeader'"):
        verify(dataclasses.replace(suite, headers={**suite.headers,
                                                   "authorization": authorization}))


def test_a_session_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    request = sign_with_botocore(headers={"X-Amz-Security-Token": "FQoGZXIvYXdzE"},
                                 monkeypatch=monkeypatch)
    with pytest.raises(UnrecognizedClient, match="issues no session tokens"):
        verify(request)


def test_a_non_ascii_signature_is_refused_not_crashed(monkeypatch: pytest.MonkeyPatch) -> None:
    request = sign_with_botocore(monkeypatch=monkeypatch)
    header = request.headers["authorization"].rsplit("Signature=", 1)[0] + "Signature=é"
    with pytest.raises(InvalidSignature):
        verify(dataclasses.replace(request, headers={**request.headers, "authorization": header}))
