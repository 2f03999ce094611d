"""POST /api/events: PutEvents over HTTP, and no input, however wrong, ever makes it fail with
a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from routing.api.http import MAX_BODY_BYTES
from routing.models import Event, PendingRoute
from tests.routing.api.conftest import ApiClient, entry

pytestmark = pytest.mark.django_db

PUT = "/api/events"


def test_entries_are_stored_in_order_and_each_fails_alone(api: ApiClient) -> None:
    response = api.post(PUT, {"Entries": [
        entry(Detail=json.dumps({"orderId": "o-1"}), Resources=["arn:order/o-1"],
              Time="2026-11-29T09:30:00Z"),
        entry(Detail="not json"),
        entry(EventBusName="nowhere"),
        entry(Source="aws.s3"),
        {"DetailType": "x", "Detail": "{}"},
    ]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["FailedEntryCount"] == 4
    first, malformed, no_bus, aws, no_source = body["Entries"]
    event = Event.objects.get(pk=first["EventId"])
    assert event.envelope()["detail"] == {"orderId": "o-1"}
    assert event.envelope()["time"] == "2026-11-29T09:30:00Z"
    assert event.resources == ["arn:order/o-1"]
    assert PendingRoute.objects.filter(event=event).exists()
    assert malformed == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert no_bus["ErrorCode"] == "ResourceNotFoundException"
    assert aws["ErrorCode"] == "NotAuthorizedForSourceException"
    assert no_source["ErrorCode"] == "InvalidArgument"
    assert "Source" in no_source["ErrorMessage"]
    assert Event.objects.count() == 1


def test_ten_entries_pass_and_eleven_are_refused_as_a_whole(api: ApiClient) -> None:
    ten = api.post(PUT, {"Entries": [entry()] * 10})
    assert ten.status_code == 200
    assert ten.json()["FailedEntryCount"] == 0
    eleven = api.post(PUT, {"Entries": [entry()] * 11})
    assert eleven.status_code == 400
    assert eleven.json()["code"] == "ValidationException"
    assert eleven.json()["field"] == "Entries"
    assert "got 11" in eleven.json()["message"]
    assert Event.objects.count() == 10


def test_a_request_over_1_mb_in_all_is_refused_whole(api: ApiClient) -> None:
    # Each entry is under the old 256 KB limit per entry; together they are over 1 MB.
    big = json.dumps({"blob": "x" * (250 * 1024)})
    response = api.post(PUT, {"Entries": [entry(Detail=big)] * 5})
    assert response.status_code == 400
    assert response.json()["code"] == "ValidationException"
    assert response.json()["message"] == (
        "Total size of the entries in the request is over the limit.")
    assert not Event.objects.exists()
    assert api.post(PUT, {"Entries": [entry(Detail=big)] * 4}).json()["FailedEntryCount"] == 0


def test_a_full_request_of_ten_escaped_entries_fits_the_body_cap(api: ApiClient) -> None:
    # Quotes inside Detail are escaped in the body, non-ASCII \u-escaped: ten entries making
    # nearly 1 MB make a body far larger than Django's 2.5 MB, and it must still be accepted.
    detail = json.dumps({"k": "\U0001f600" * 26_000}, ensure_ascii=False)
    assert 100_000 < len(detail.encode()) < 1024 * 1024 // 10 - 100
    body = json.dumps({"Entries": [entry(Detail=detail)] * 10})
    assert len(body) > 3_000_000
    response = api.post(PUT, raw=body)
    assert response.status_code == 200
    assert response.json()["FailedEntryCount"] == 0


def test_a_body_over_the_cap_is_413(api: ApiClient) -> None:
    response = api.post(PUT, raw=b" " * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.json() == {
        "code": "RequestEntityTooLarge",
        "message": f"The request body is {MAX_BODY_BYTES + 1:,} bytes; the limit is "
                   f"{MAX_BODY_BYTES:,}.",
        "field": "body",
    }


@pytest.mark.parametrize(("content_type", "fragment"), [
    ("text/plain", "got text/plain"),
    ("application/x-www-form-urlencoded", "got application/x-www-form-urlencoded"),
    ("", "got no content type"),
    ("application/json; charset=latin-1", "must be UTF-8"),
])
def test_wrong_content_type_is_415(api: ApiClient, content_type: str, fragment: str) -> None:
    response = api.post(PUT, raw=json.dumps({"Entries": [entry()]}), content_type=content_type)
    assert response.status_code == 415
    assert response.json()["code"] == "UnsupportedMediaType"
    assert response.json()["field"] == "Content-Type"
    assert fragment in response.json()["message"]
    assert not Event.objects.exists()


def test_charset_utf8_is_fine(api: ApiClient) -> None:
    response = api.post(PUT, {"Entries": [entry()]},
                        content_type="application/json; charset=UTF-8")
    assert response.status_code == 200


def test_a_lone_surrogate_in_the_body_is_400_not_a_crash(api: ApiClient) -> None:
    response = api.post(PUT, {"Entries": [entry(DetailType="a\ud800b")]})
    assert response.status_code == 400
    assert response.json() == {
        "code": "ValidationException",
        "message": "The request body is not valid JSON text: it holds a lone surrogate "
                   "(\\ud800), which is not a character.",
        "field": "body",
    }


def test_wrong_method_is_405_with_allow(api: ApiClient) -> None:
    response = api.get(PUT)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["code"] == "MethodNotAllowed"


def test_unknown_api_paths_are_json_404s(api: ApiClient) -> None:
    for path in ("/api/nope", "/api/events/", "/api/events/a/b", "/api/"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "ResourceNotFoundException"
    assert api.post("/api/nope", {}).status_code == 404


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


def _garbage() -> list[tuple[str, bytes | str]]:
    entries: list[tuple[str, Any]] = [
        ("null", None),
        ("array", [entry()]),
        ("string", "Entries"),
        ("number", 42),
        ("true", True),
        ("empty object", {}),
        ("Entries null", {"Entries": None}),
        ("Entries object", {"Entries": {"Source": "x"}}),
        ("Entries string", {"Entries": "[]"}),
        ("Entries number", {"Entries": 1}),
        ("Entries empty", {"Entries": []}),
        ("eleven entries", {"Entries": [entry()] * 11}),
        ("entries of nulls", {"Entries": [None, None]}),
        ("entries of scalars", {"Entries": [1, "x", True, [], 2.5]}),
        ("entry keys of every type", {"Entries": [
            {"Source": value, "DetailType": value, "Detail": value, "Resources": value,
             "Time": value, "EventBusName": value}
            for value in (None, 0, -1, 1.5, True, False, "", "x", [], ["x"], [1], {}, {"a": 1})
        ][:10]}),
        ("detail of every JSON type", {"Entries": [
            entry(Detail=text) for text in
            ("null", "[]", "1", '"s"', "true", "{", "{}", '{"a":}', "\u0000", "{}{}")
        ]}),
        ("resources of every type", {"Entries": [
            entry(Resources=value) for value in
            (None, "arn", 1, [None], [1], [[]], [{}], ["x" * 3000], {"a": "b"}, [""])
        ]}),
        ("times of every shape", {"Entries": [
            entry(Time=value) for value in
            ("", "yesterday", "2026-02-30", "2026-11-29T09:30:00.5Z", "0", -1, 0,
             "2026-11-29T09:30:00+14:00", [], {})
        ]}),
        ("event bus names", {"Entries": [
            entry(EventBusName=value) for value in
            ("", "arn:aws:events:x:1:event-bus/", "../default", "x" * 2000, "\u2603", 0, [],
             "default", "arn:aws:events:us-east-1:000000000000:event-bus/default", None)
        ]}),
        ("deeply nested detail", {"Entries": [entry(Detail=json.dumps(_deep(900))),
                                              entry(Detail="[" * 5000 + "]" * 5000),
                                              entry(Detail='{"a":' * 1200 + "1" + "}" * 1200)]}),
        ("unicode everywhere", {"Entries": [
            entry(Source="café.☕", DetailType="注文 🧋",
                  Detail=json.dumps({"名前": "Zoë", "emoji": "🧋", "rtl": "\u202e"})),
            entry(Detail=json.dumps({"pair": "\ud83e\uddcb"})),
        ]}),
        ("lone surrogates", {"Entries": [entry(Source="\ud800"), entry(Resources=["\udc00"])]}),
        ("long strings", {"Entries": [entry(Source="s" * 300), entry(DetailType="d" * 200)]}),
        ("huge integer detail", {"Entries": [entry(Detail='{"n": ' + "9" * 5000 + "}")]}),
        ("extra members", {"Entries": [entry(TraceHeader="x", Unknown=[1])], "EndpointId": 1}),
    ]
    cases: list[tuple[str, bytes | str]] = [(name, json.dumps(body)) for name, body in entries]
    cases += [
        ("empty body", b""),
        ("whitespace", b"  \n"),
        ("not json", b"Entries=1"),
        ("truncated", json.dumps({"Entries": [entry()]})[:-3]),
        ("trailing garbage", json.dumps({"Entries": [entry()]}) + "x"),
        ("NaN", b'{"Entries": NaN}'),
        ("Infinity", b'{"Entries": [{"Source": Infinity}]}'),
        ("invalid utf-8", b'{"Entries": ["\xff\xfe"]}'),
        ("utf-16", json.dumps({"Entries": [entry()]}).encode("utf-16")),
        ("bom", "\ufeff" + json.dumps({"Entries": [entry()]})),
        ("nul bytes", b"\x00\x00\x00"),
        ("deep body", "[" * 100_000 + "]" * 100_000),
        ("deep object body", '{"a":' * 50_000 + "1" + "}" * 50_000),
        ("huge number", b'{"Entries": ' + b"1" * 10_000 + b"}"),
        ("lone surrogate escape", b'{"Entries": [{"Source": "\\ud800"}]}'),
    ]
    return cases


@pytest.mark.parametrize(("name", "raw"), _garbage(), ids=[name for name, _ in _garbage()])
def test_garbage_never_makes_a_500(api: ApiClient, name: str, raw: bytes | str) -> None:
    response = api.post(PUT, raw=raw)
    assert response.status_code in {200, 400}, (response.status_code, response.content[:500])
    body = response.json()
    if response.status_code == 400:
        assert set(body) == {"code", "message", "field"}
        assert all(isinstance(value, str) and value for value in body.values())
    else:
        assert body["FailedEntryCount"] == sum("ErrorCode" in e for e in body["Entries"])
        for result in body["Entries"]:
            assert set(result) in ({"EventId"}, {"ErrorCode", "ErrorMessage"})


# Entries that parse but cannot be stored (a Time out of range, an impossible date, NaN, NUL
# characters PostgreSQL refuses, lone surrogates): each fails alone, never the whole request.
UNSTORABLE_ENTRIES = [
    pytest.param(entry(Time=1e20), "InvalidArgument", id="time-out-of-range-number"),
    pytest.param(entry(Time="1e300"), "InvalidArgument", id="time-out-of-range-text"),
    pytest.param(entry(Time="2026-13-45T00:00:00Z"), "InvalidArgument", id="time-impossible-date"),
    pytest.param(entry(Time="2026-11-29T25:00:00Z"), "InvalidArgument", id="time-impossible-hour"),
    pytest.param(entry(Detail='{"a": NaN}'), "MalformedDetail", id="detail-nan"),
    pytest.param(entry(Detail='{"a": Infinity}'), "MalformedDetail", id="detail-infinity"),
    pytest.param(entry(Detail='{"a": "\\u0000"}'), "InvalidArgument", id="detail-nul"),
    pytest.param(entry(Source="a\u0000b"), "InvalidArgument", id="source-nul"),
    pytest.param(entry(Detail=json.dumps({"lone": "\ud800"})), "InvalidArgument",
                 id="detail-lone-surrogate"),
]


@pytest.mark.parametrize(("bad_entry", "code"), UNSTORABLE_ENTRIES)
def test_entries_the_database_cannot_store_fail_alone(
    api: ApiClient, bad_entry: dict[str, Any], code: str
) -> None:
    response = api.post(PUT, {"Entries": [bad_entry, entry()]})
    assert response.status_code == 200
    failed, stored = response.json()["Entries"]
    assert failed["ErrorCode"] == code
    assert failed["ErrorMessage"]
    assert stored.keys() == {"EventId"}



def test_a_detail_nested_to_the_limit_is_stored_and_one_level_more_is_refused_alone(
    api: ApiClient,
) -> None:
    from routing.services.publish import MAX_JSON_DEPTH

    response = api.post(PUT, {"Entries": [entry(Detail=json.dumps(_deep(MAX_JSON_DEPTH))),
                                          entry(Detail=json.dumps(_deep(MAX_JSON_DEPTH + 1)))]})
    assert response.status_code == 200
    first, second = response.json()["Entries"]
    assert set(first) == {"EventId"}
    assert second["ErrorCode"] == "MalformedDetail"


def test_a_key_over_its_requests_per_second_gets_429_and_nothing_is_stored(
    api: ApiClient, settings: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import redis

    from routing.services import quotas

    monkeypatch.setattr(quotas, "_buckets", quotas._Buckets())
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=f"{quotas.KEY_PREFIX}*"):
        client.delete(key)
    client.close()
    settings.ROUTING_PUT_EVENTS_PER_SECOND = 0.2
    settings.ROUTING_PUT_EVENTS_BURST = 1
    assert api.post(PUT, {"Entries": [entry()]}).status_code == 200
    throttled = api.post(PUT, {"Entries": [entry()]})
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "ThrottlingException"
    assert Event.objects.count() == 1
