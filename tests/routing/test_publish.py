import json
from datetime import UTC, datetime

import pytest

from routing.errors import ValidationError
from routing.models import Event, EventBus, PendingRoute
from routing.services import bus_create, event_publish, put_events
from routing.services.publish import MAX_REQUEST_BYTES, entry_size
from tests.support.publishers import TEST_PUBLISHER

pytestmark = pytest.mark.django_db


def entry(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "Source": "coffee.till",
        "DetailType": "Validator.NewOrder",
        "Detail": json.dumps({"orderId": "o-1", "userId": "u-1"}),
    }
    base.update(overrides)
    return base


def test_put_events_stores_each_event_with_its_outbox_row(default_bus: EventBus) -> None:
    result = put_events([entry(), entry(Resources=["arn:shop:1"])], publisher=TEST_PUBLISHER)
    assert result.failed_entry_count == 0
    ids = [item["EventId"] for item in result.entries]
    events = {str(e.pk): e for e in Event.objects.filter(pk__in=ids)}
    assert set(events) == set(ids)
    assert events[ids[1]].resources == ["arn:shop:1"]
    assert PendingRoute.objects.filter(event_id__in=ids).count() == 2
    envelope = events[ids[0]].envelope()
    assert envelope["detail-type"] == "Validator.NewOrder"
    assert envelope["detail"] == {"orderId": "o-1", "userId": "u-1"}
    assert envelope["account"] == "000000000000"
    assert envelope["version"] == "0"
    assert envelope["time"].endswith("Z")
    assert "replay-name" not in envelope


@pytest.mark.parametrize(
    ("bad", "code", "message"),
    [
        ({"Source": None}, "InvalidArgument",
         "Parameter Source is not valid. Reason: Source is a required argument."),
        ({"DetailType": ""}, "InvalidArgument", "Parameter DetailType is not valid"),
        ({"Detail": "{not json"}, "MalformedDetail", "Detail is malformed."),
        ({"Detail": "[1, 2]"}, "MalformedDetail", "Detail is malformed."),
        ({"Source": "aws.s3"}, "NotAuthorizedForSourceException",
         "Not authorized for the source 'aws.s3'"),
        ({"EventBusName": "nope"}, "ResourceNotFoundException", "Event bus nope does not exist."),
        ({"Time": "yesterday"}, "InvalidArgument", "Parameter Time is not valid"),
        ({"Resources": "arn:one"}, "InvalidArgument", "Parameter Resources is not valid"),
    ],
)
def test_a_bad_entry_fails_alone_with_a_clear_code(
    default_bus: EventBus, bad: dict[str, object], code: str, message: str
) -> None:
    result = put_events([entry(), entry(**bad), entry()], publisher=TEST_PUBLISHER)
    assert result.failed_entry_count == 1
    first, failed, last = result.entries
    assert "EventId" in first
    assert "EventId" in last
    assert failed["ErrorCode"] == code
    assert message in failed["ErrorMessage"]
    assert Event.objects.count() == 2


def test_the_request_as_a_whole_holds_at_most_1_mb_as_aws_counts_it(
    default_bus: EventBus,
) -> None:
    def sized(size: int) -> dict[str, object]:
        filler = "y" * (size - len("source") - len("t") - len('{"x":""}') - 14)
        return entry(Source="source", DetailType="t", Time="2026-01-01T00:00:00Z",
                     Detail=json.dumps({"x": filler}, separators=(",", ":")))

    assert entry_size(sized(1000)) == 1000
    half = MAX_REQUEST_BYTES // 2
    assert put_events([sized(half), sized(half)], publisher=TEST_PUBLISHER).failed_entry_count == 0
    with pytest.raises(ValidationError, match="Total size of the entries in the request is over"):
        put_events([sized(half), sized(half + 1)], publisher=TEST_PUBLISHER)
    assert Event.objects.count() == 2


def test_a_non_object_entry_fails_alone(default_bus: EventBus) -> None:
    result = put_events(["hello", entry()], publisher=TEST_PUBLISHER)
    assert result.entries[0]["ErrorCode"] == "InvalidArgument"
    assert "EventId" in result.entries[1]


@pytest.mark.parametrize("entries", [[], [entry()] * 11, "not a list", None])
def test_the_request_as_a_whole_must_have_one_to_ten_entries(entries: object) -> None:
    with pytest.raises(ValidationError) as raised:
        put_events(entries, publisher=TEST_PUBLISHER)
    assert raised.value.field == "Entries"


def test_bus_by_name_or_arn_and_scoping(default_bus: EventBus, actor) -> None:
    shop = bus_create(name="Serverlesspresso", actor=actor)
    result = put_events(
        [entry(EventBusName=shop.arn), entry(EventBusName="Serverlesspresso"), entry()],
        publisher=TEST_PUBLISHER,
        allowed_bus_names={"Serverlesspresso"},
    )
    assert [("EventId" in item) for item in result.entries] == [True, True, False]
    assert result.entries[2]["ErrorCode"] == "AccessDeniedException"
    assert Event.objects.filter(bus=shop).count() == 2


def test_time_is_kept_when_given(default_bus: EventBus) -> None:
    result = put_events([entry(Time="2026-01-02T03:04:05Z"), entry(Time=1767323045)],
                        publisher=TEST_PUBLISHER)
    times = [Event.objects.get(pk=item["EventId"]).time for item in result.entries]
    assert times == [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)] * 2


def test_event_publish_from_python(default_bus: EventBus) -> None:
    event = event_publish(
        publisher=TEST_PUBLISHER, source="orders", detail_type="OrderManager.MakeOrder",
                          detail={"orderId": "o-9", "Message": "A barista is making it."})
    assert event.detail["orderId"] == "o-9"
    assert PendingRoute.objects.filter(event=event).exists()
    with pytest.raises(ValidationError, match="Not authorized for the source"):
        event_publish(publisher=TEST_PUBLISHER, source="aws.events", detail_type="x", detail={})
