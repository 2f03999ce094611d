"""Matching and delivery as services, in-process (the integration tests run them in workers)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from routing.models import (
    Archive,
    ArchivedEvent,
    AttemptOutcome,
    Delivery,
    DeliveryStatus,
    Event,
    EventBus,
    ExhaustedCondition,
    PendingRoute,
    Replay,
    RuleState,
)
from routing.publishers import Publisher
from routing.rule_cache import compiled_bus
from routing.services import (
    Actor,
    TargetSpec,
    deliveries_redrive,
    delivery_attempt,
    event_publish,
    route_events,
    rule_put,
    rule_set_state,
    sweep,
    targets_put,
)
from routing.services.publish import EventEntry, events_store
from routing.transform.target_input import InputTransformer, TargetInput
from tests.support.publishers import TEST_PUBLISHER

pytestmark = pytest.mark.django_db

PATTERN = {"source": ["shop"], "detail-type": ["OrderPlaced"]}


def publish(**detail: object) -> Event:
    return event_publish(publisher=TEST_PUBLISHER, source="shop", detail_type="OrderPlaced",
                         detail={"orderId": "o-1", **detail})


@pytest.fixture
def rule(default_bus: EventBus, actor: Actor, recorder):
    made = rule_put(bus_name="default", name="orders", event_pattern=PATTERN, actor=actor)
    targets_put(rule=made, actor=actor, targets=[
        TargetSpec("whole", "handler", "tests.recorder"),
        TargetSpec("shaped", "handler", "tests.recorder", target_input=TargetInput(
            input_transformer=InputTransformer(
                input_paths_map={"order": "$.detail.orderId"},
                input_template='{"order": <order>, "rule": <aws.events.rule-name>}',
            ))),
    ])
    return made


def due_now(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_route_creates_one_delivery_per_target_once(rule, recorder) -> None:
    event = publish()
    result = route_events([str(event.pk)])
    assert (result.routed_events, result.deliveries) == (1, 2)
    assert not PendingRoute.objects.filter(event=event).exists()
    assert route_events([str(event.pk)]).routed_events == 0  # routing twice changes nothing
    deliveries = Delivery.objects.filter(event=event)
    assert deliveries.count() == 2
    assert {d.rule_revision.number for d in deliveries} == {2}

    for delivery in deliveries:
        assert delivery_attempt(str(delivery.pk)).status == DeliveryStatus.SUCCEEDED
    payloads = sorted((context.target_id, payload) for payload, context in recorder.calls)
    assert payloads[0] == ("shaped", {"order": "o-1", "rule": "orders"})
    assert payloads[1][0] == "whole"
    assert payloads[1][1]["detail"] == {"orderId": "o-1"}
    assert payloads[1][1]["id"] == str(event.pk)
    # Attempting a finished delivery again does nothing.
    assert delivery_attempt(str(deliveries[0].pk)).status == DeliveryStatus.SUCCEEDED
    assert len(recorder.calls) == 2


def test_non_matching_and_disabled_rules_deliver_nothing(rule, actor) -> None:
    other = event_publish(
        publisher=TEST_PUBLISHER, source="elsewhere", detail_type="OrderPlaced", detail={})
    assert route_events([str(other.pk)]).deliveries == 0
    rule_set_state(rule=rule, state=RuleState.DISABLED, actor=actor)
    event = publish()
    assert route_events([str(event.pk)]).deliveries == 0
    rule_set_state(rule=rule, state=RuleState.ENABLED, actor=actor)
    assert route_events([str(publish().pk)]).deliveries == 2


def test_rule_cache_follows_changes_incrementally(rule, actor, default_bus) -> None:
    compiled = compiled_bus(default_bus.pk)
    assert set(compiled.rules) == {rule.pk}
    other = rule_put(bus_name="default", name="everything-from-shop",
                     event_pattern={"source": ["shop"]}, actor=actor)
    compiled = compiled_bus(default_bus.pk)
    assert set(compiled.rules) == {rule.pk, other.pk}
    rule_put(bus_name="default", name="orders", event_pattern={"source": ["nope"]}, actor=actor)
    compiled = compiled_bus(default_bus.pk)
    matched, _ = compiled.match(publish().envelope())
    assert [r.id for r in matched] == [other.pk]


def test_failures_retry_with_backoff_then_dead_letter(rule, recorder) -> None:
    rule.targets.update(max_retry_attempts=2)
    recorder.failures_left = 10
    event = publish()
    route_events([str(event.pk)])
    delivery = Delivery.objects.get(event=event, target__target_id="whole")
    before = timezone.now()
    report = delivery_attempt(str(delivery.pk))
    assert report.status == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.next_attempt_at > before
    assert delivery.last_error == "RuntimeError: told to fail"
    # Not due yet: a second attempt now is refused by the claim.
    assert delivery_attempt(str(delivery.pk)).status == DeliveryStatus.PENDING
    assert delivery.attempts.count() == 1
    due_now(delivery)
    assert delivery_attempt(str(delivery.pk)).status == DeliveryStatus.PENDING
    due_now(delivery)
    assert delivery_attempt(str(delivery.pk)).status == DeliveryStatus.DEAD
    delivery.refresh_from_db()
    assert delivery.exhausted_condition == ExhaustedCondition.MAX_ATTEMPTS
    assert [a.outcome for a in delivery.attempts.all()] == [AttemptOutcome.FAILED] * 3

    recorder.failures_left = 0
    assert deliveries_redrive(delivery_ids=[str(delivery.pk)]) == [str(delivery.pk)]
    assert delivery_attempt(str(delivery.pk)).status == DeliveryStatus.SUCCEEDED
    delivery.refresh_from_db()
    assert (delivery.attempt_count, delivery.redrive_count) == (4, 1)
    assert [a.number for a in delivery.attempts.all()] == [1, 2, 3, 4]


def test_permanent_errors_and_age_limits_and_dropping(rule, recorder) -> None:
    from routing.handlers import PermanentHandlerError

    recorder.failures_left = 1
    recorder.error = PermanentHandlerError("order o-1 does not exist")
    event = publish()
    route_events([str(event.pk)])
    whole = Delivery.objects.get(event=event, target__target_id="whole")
    assert delivery_attempt(str(whole.pk)).status == DeliveryStatus.DEAD
    whole.refresh_from_db()
    assert whole.exhausted_condition == ExhaustedCondition.NOT_RETRYABLE

    recorder.failures_left = 1
    recorder.error = RuntimeError("flaky")
    shaped = Delivery.objects.get(event=event, target__target_id="shaped")
    Delivery.objects.filter(pk=shaped.pk).update(expires_at=timezone.now())
    shaped.target.dead_letter_enabled = False
    shaped.target.save(update_fields=["dead_letter_enabled"])
    assert delivery_attempt(str(shaped.pk)).status == DeliveryStatus.DROPPED
    shaped.refresh_from_db()
    assert shaped.exhausted_condition == ExhaustedCondition.MAX_AGE


def test_a_buss_dead_letter_config_keeps_what_its_targets_would_drop(rule, recorder) -> None:
    from routing.services import Actor, bus_update

    recorder.failures_left = 1
    recorder.error = RuntimeError("flaky")
    event = publish()
    route_events([str(event.pk)])
    shaped = Delivery.objects.get(event=event, target__target_id="shaped")
    Delivery.objects.filter(pk=shaped.pk).update(expires_at=timezone.now())
    shaped.target.dead_letter_enabled = False
    shaped.target.save(update_fields=["dead_letter_enabled"])
    bus_update(name=rule.bus.name, dead_letter_enabled=True, actor=Actor.system("test"))
    assert delivery_attempt(str(shaped.pk)).status == DeliveryStatus.DEAD


def test_sweeper_recovers_lost_messages_and_lost_attempts(rule, settings) -> None:
    settings.ROUTING_SWEEP_GRACE_SECONDS = 0
    settings.ROUTING_RUNNING_LEASE_SECONDS = 0
    event = publish()
    PendingRoute.objects.filter(event=event).update(enqueued_at=timezone.now() - timedelta(1))
    report = sweep()
    assert report.events_requeued == 1
    route_events([str(event.pk)])
    delivery = Delivery.objects.filter(event=event).first()
    assert delivery is not None
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.RUNNING, claimed_at=timezone.now() - timedelta(minutes=5),
        attempt_count=1,
    )
    report = sweep()
    assert report.lost_attempts_recovered == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts.get().outcome == AttemptOutcome.LOST
    assert delivery_attempt(str(delivery.pk)).status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts.count() == 2


def test_archives_keep_matching_events_but_not_replays(rule, default_bus) -> None:
    archive = Archive.objects.create(name="orders-archive", bus=default_bus,
                                     event_pattern={"detail": {"orderId": ["o-1"]}})
    EventBus.objects.filter(pk=default_bus.pk).update(rules_version=10_000)
    first, second = publish(), publish(orderId="o-2")
    route_events([str(first.pk), str(second.pk)])
    assert list(ArchivedEvent.objects.values_list("event_id", flat=True)) == [first.pk]

    replay = Replay.objects.create(
        name="again", archive=archive, destination_bus=default_bus,
        event_start_time=first.time - timedelta(1), event_end_time=first.time + timedelta(1),
    )
    replay.filter_rules.add(rule)
    [replayed] = events_store(
        entries=[EventEntry(source="shop", detail_type="OrderPlaced", detail={"orderId": "o-1"},
                            replay_name=replay.name)],
        publisher=Publisher.replay(replay_id=replay.pk, name=replay.name),
    )
    result = route_events([str(replayed.pk)])
    assert result.deliveries == 2
    assert result.archived == 0
    assert replayed.envelope()["replay-name"] == "again"


def test_a_bus_target_with_input_path_forwards_the_event_it_picks(
    default_bus: EventBus, actor: Actor
) -> None:
    from routing.services import bus_create

    bus_create(name="audit", actor=actor)
    made = rule_put(bus_name="default", name="audit", event_pattern=PATTERN, actor=actor)
    assert not targets_put(rule=made, actor=actor, targets=[
        TargetSpec("whole", "bus", "audit", target_input=TargetInput(input_path="$")),
        TargetSpec("part", "bus", "audit", target_input=TargetInput(input_path="$.detail")),
    ])
    event = publish(size="large")
    route_events([str(event.pk)])
    whole = Delivery.objects.get(event=event, target__target_id="whole")
    assert delivery_attempt(str(whole.pk)).status == DeliveryStatus.SUCCEEDED
    [forwarded] = Event.objects.filter(bus__name="audit")
    assert (forwarded.source, forwarded.detail_type, forwarded.detail, forwarded.forwarded_from) \
        == ("shop", "OrderPlaced", {"orderId": "o-1", "size": "large"}, event.pk)
    # A path that picks no event has nothing to forward: it fails at once, without retries.
    part = Delivery.objects.get(event=event, target__target_id="part")
    assert delivery_attempt(str(part.pk)).status == DeliveryStatus.DEAD
    part.refresh_from_db()
    assert part.exhausted_condition == ExhaustedCondition.NOT_RETRYABLE
    assert "picked no event" in part.last_error
    assert Event.objects.filter(bus__name="audit").count() == 1
