"""Scheduled rules as the bus stores them: ScheduleExpression on the default bus only, AWS's
messages for what it refuses, and no part in pattern matching."""

from __future__ import annotations

import pytest

from routing.errors import ValidationError
from routing.models import EventBus, Rule, RuleState
from routing.services import Actor, bus_create, rule_put, rule_restore_revision, rule_set_state
from routing.services.matching import route_events
from routing.services.publish import event_publish
from tests.support.publishers import TEST_PUBLISHER


def test_a_scheduled_rule_is_stored_with_its_expression(default_bus: EventBus,
                                                         actor: Actor) -> None:
    rule = rule_put(bus_name="default", name="every-five", event_pattern=None,
                    schedule_expression="rate(5 minutes)", actor=actor)
    rule.refresh_from_db()
    assert rule.schedule_expression == "rate(5 minutes)"
    assert rule.event_pattern == {}
    assert rule.schedule_started_at is not None
    assert rule.revisions.get().schedule_expression == "rate(5 minutes)"


def test_custom_buses_refuse_schedules(default_bus: EventBus, actor: Actor) -> None:
    bus_create(name="orders", actor=actor)
    with pytest.raises(ValidationError) as caught:
        rule_put(bus_name="orders", name="tick", event_pattern=None,
                 schedule_expression="rate(5 minutes)", actor=actor)
    assert caught.value.message == "ScheduleExpression is supported only on the default event bus."
    assert caught.value.field == "ScheduleExpression"


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "cron(0 10 * * * *)", "cron(0 10)",
                                        "at(2030-01-01T00:00:00)"])
def test_bad_expressions_get_aws_message(default_bus: EventBus, actor: Actor,
                                         expression: str) -> None:
    with pytest.raises(ValidationError) as caught:
        rule_put(bus_name="default", name="tick", event_pattern=None,
                 schedule_expression=expression, actor=actor)
    assert caught.value.message == "Parameter ScheduleExpression is not valid."
    assert not Rule.objects.exists()


def test_a_rule_needs_a_pattern_or_a_schedule(default_bus: EventBus, actor: Actor) -> None:
    with pytest.raises(ValidationError) as caught:
        rule_put(bus_name="default", name="nothing", event_pattern=None, actor=actor)
    assert caught.value.message == \
        "Parameter(s) EventPattern or ScheduleExpression must be specified."
    with pytest.raises(ValidationError, match="not both"):
        rule_put(bus_name="default", name="both", event_pattern={"source": ["a"]},
                 schedule_expression="rate(5 minutes)", actor=actor)


def test_scheduled_rules_match_no_published_event(default_bus: EventBus, actor: Actor,
                                                  recorder: object) -> None:
    from routing.services import TargetSpec, targets_put

    rule = rule_put(bus_name="default", name="tick", event_pattern=None,
                    schedule_expression="rate(5 minutes)", actor=actor)
    targets_put(rule=rule, targets=[TargetSpec("r", "handler", "tests.recorder")], actor=actor)
    event = event_publish(publisher=TEST_PUBLISHER, source="shop", detail_type="Anything",
                          detail={})
    assert route_events([str(event.pk)]).deliveries == 0


def test_enabling_again_restarts_the_schedule(default_bus: EventBus, actor: Actor) -> None:
    rule = rule_put(bus_name="default", name="tick", event_pattern=None,
                    schedule_expression="rate(5 minutes)", actor=actor)
    started = rule.schedule_started_at
    assert started is not None
    rule = rule_set_state(rule=rule, state=RuleState.DISABLED, actor=actor)
    assert rule.schedule_started_at == started
    rule = rule_set_state(rule=rule, state=RuleState.ENABLED, actor=actor)
    assert rule.schedule_started_at is not None
    assert rule.schedule_started_at > started
    # Changing the expression restarts it too; a pattern rule has no start.
    again = rule_put(bus_name="default", name="tick", event_pattern={"source": ["shop"]},
                     actor=actor)
    assert again.schedule_expression == ""
    assert again.schedule_started_at is None
    restored = rule_restore_revision(rule=again, number=1, actor=actor)
    assert restored.schedule_expression == "rate(5 minutes)"
    assert restored.schedule_started_at is not None
