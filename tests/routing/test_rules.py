import pytest

from routing.errors import InvalidEventPattern, LimitExceeded, NotFound, ValidationError
from routing.models import EventBus, Rule, RuleState, Target
from routing.services import (
    Actor,
    TargetSpec,
    bus_create,
    bus_delete,
    rule_delete,
    rule_put,
    rule_restore_revision,
    rule_set_state,
    targets_put,
    targets_remove,
)
from routing.transform.target_input import TargetInput

pytestmark = pytest.mark.django_db

NEW_ORDER = {"source": ["awsserverlessda.serverlesspresso"], "detail-type": ["Validator.NewOrder"]}


def test_put_rule_creates_then_replaces_and_keeps_every_revision(
    default_bus: EventBus, actor: Actor
) -> None:
    version_before = EventBus.objects.get(pk=default_bus.pk).rules_version
    rule = rule_put(bus_name="default", name="new-orders", event_pattern=NEW_ORDER, actor=actor)
    assert (rule.revision, rule.state) == (1, RuleState.ENABLED)
    rule = rule_put(bus_name="default", name="new-orders", actor=actor,
                    event_pattern='{"source": ["elsewhere"]}', description="moved")
    assert rule.revision == 2
    assert rule.event_pattern == {"source": ["elsewhere"]}
    revisions = list(rule.revisions.order_by("number"))
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[0].event_pattern == NEW_ORDER
    assert revisions[1].change == "changed pattern, description"
    assert revisions[1].changed_by_label == "test"
    assert EventBus.objects.get(pk=default_bus.pk).rules_version == version_before + 2
    # Putting the same thing again changes nothing.
    assert rule_put(bus_name="default", name="new-orders", actor=actor, description="moved",
                    event_pattern={"source": ["elsewhere"]}).revision == 2


def test_invalid_pattern_is_refused_with_the_engine_message(
    default_bus: EventBus, actor: Actor
) -> None:
    with pytest.raises(InvalidEventPattern) as raised:
        rule_put(bus_name="default", name="bad", actor=actor,
                 event_pattern={"detail": {"price": [{"numeric": [">", "cheap"]}]}})
    assert raised.value.message.startswith("Event pattern is not valid. Reason:")
    assert raised.value.code == "InvalidEventPatternException"
    assert not Rule.objects.filter(name="bad").exists()


@pytest.mark.parametrize(
    ("name", "field"), [("has space", "Name"), ("x" * 65, "Name")]
)
def test_rule_names_follow_eventbridge(default_bus: EventBus, actor: Actor, name: str,
                                       field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        rule_put(bus_name="default", name=name, event_pattern=NEW_ORDER, actor=actor)
    assert raised.value.field == field


def test_rule_on_a_missing_bus(actor: Actor) -> None:
    with pytest.raises(NotFound, match="Event bus nowhere does not exist"):
        rule_put(bus_name="nowhere", name="r", event_pattern=NEW_ORDER, actor=actor)


def test_enable_disable_and_restore(default_bus: EventBus, actor: Actor) -> None:
    rule = rule_put(bus_name="default", name="r", event_pattern=NEW_ORDER, actor=actor)
    rule = rule_set_state(rule=rule, state=RuleState.DISABLED, actor=actor)
    assert (rule.state, rule.revision) == (RuleState.DISABLED, 2)
    rule = rule_put(bus_name="default", name="r", event_pattern={"source": ["x"]},
                    state=RuleState.DISABLED, actor=actor)
    rule = rule_restore_revision(rule=rule, number=1, actor=actor)
    assert (rule.state, rule.event_pattern, rule.revision) == (RuleState.ENABLED, NEW_ORDER, 4)
    assert rule.revisions.get(number=4).change == "restored revision 1"


def test_targets_are_validated_limited_and_recorded(
    default_bus: EventBus, actor: Actor, recorder
) -> None:
    rule = rule_put(bus_name="default", name="r", event_pattern=NEW_ORDER, actor=actor)
    failures = targets_put(rule=rule, actor=actor, targets=[
        TargetSpec("store", "handler", "tests.recorder"),
        TargetSpec("ghost", "handler", "no.such.handler"),
        TargetSpec("hook", "webhook", "ftp://example.com/x"),
        TargetSpec("retry", "handler", "tests.recorder", max_retry_attempts=186),
        TargetSpec("age", "handler", "tests.recorder", max_event_age_seconds=59),
        TargetSpec("push", "channels", "customer.{detail.userId}"),
        TargetSpec("fwd", "bus", "default"),
        TargetSpec("two-inputs", "handler", "tests.recorder",
                   target_input=TargetInput(input="{}", input_path="$.detail")),
    ])
    assert {f.target_id: f.code for f in failures} == {
        "ghost": "ValidationException", "hook": "ValidationException",
        "retry": "ValidationException", "age": "ValidationException",
        "fwd": "ValidationException", "two-inputs": "ValidationException",
    }
    assert "no handler named 'no.such.handler'" in next(
        f.message for f in failures if f.target_id == "ghost")
    live = Target.objects.filter(rule=rule, deleted_at__isnull=True)
    assert sorted(live.values_list("target_id", flat=True)) == ["push", "store"]
    rule.refresh_from_db()
    assert rule.revision == 2
    assert [t["Id"] for t in rule.revisions.get(number=2).targets] == ["push", "store"]

    more = [TargetSpec(f"t{i}", "handler", "tests.recorder") for i in range(4)]
    with pytest.raises(LimitExceeded, match="more than 5 targets"):
        targets_put(rule=rule, targets=more, actor=actor)
    assert live.count() == 2
    assert not targets_put(rule=rule, targets=more[:3], actor=actor)
    assert live.count() == 5

    assert [f.target_id for f in targets_remove(rule=rule, target_ids=["t0", "zz"],
                                                actor=actor)] == ["zz"]
    assert live.count() == 4


def test_private_webhooks_are_refused_unless_allowed(
    default_bus: EventBus, actor: Actor, settings
) -> None:
    settings.ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    rule = rule_put(bus_name="default", name="r", event_pattern=NEW_ORDER, actor=actor)
    urls = ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/", "http://[::1]/",
            "http://169.254.169.254/latest/meta-data"]
    failures = targets_put(rule=rule, actor=actor,
                           targets=[TargetSpec(f"h{i}", "webhook", url)
                                    for i, url in enumerate(urls)])
    assert len(failures) == len(urls)
    assert [f.message.split(": ", 1)[1].split(";")[0] for f in failures] == [
        "127.0.0.1 is a loopback address", "localhost is a local name",
        "10.1.2.3 is a private address", "::1 is a loopback address",
        "169.254.169.254 is a link-local address (the cloud metadata range)"]


def test_delete_rule_needs_its_targets_gone_or_force(
    default_bus: EventBus, actor: Actor, recorder
) -> None:
    rule = rule_put(bus_name="default", name="r", event_pattern=NEW_ORDER, actor=actor)
    targets_put(rule=rule, targets=[TargetSpec("store", "handler", "tests.recorder")],
                actor=actor)
    with pytest.raises(ValidationError, match="has targets"):
        rule_delete(rule=rule, actor=actor)
    rule_delete(rule=rule, actor=actor, force=True)
    rule.refresh_from_db()
    assert rule.deleted_at is not None
    assert rule.revisions.get(number=rule.revision).deleted
    # The name is free again.
    again = rule_put(bus_name="default", name="r", event_pattern=NEW_ORDER, actor=actor)
    assert again.pk != rule.pk


def test_buses(default_bus: EventBus, actor: Actor) -> None:
    bus = bus_create(name="Serverlesspresso", actor=actor)
    assert bus.arn.endswith(":event-bus/Serverlesspresso")
    with pytest.raises(ValidationError, match="default"):
        bus_delete(name="default", actor=actor)
    rule_put(bus_name="Serverlesspresso", name="r", event_pattern=NEW_ORDER, actor=actor)
    with pytest.raises(ValidationError, match="still has rules"):
        bus_delete(name="Serverlesspresso", actor=actor)
    bus_create(name="empty", actor=actor)
    bus_delete(name="empty", actor=actor)
    assert not EventBus.objects.filter(name="empty").exists()


def test_a_deleted_rule_cannot_be_changed(default_bus: EventBus, actor: Actor, recorder) -> None:
    rule = rule_put(bus_name="default", name="gone", event_pattern=NEW_ORDER, actor=actor)
    rule_delete(rule=rule, actor=actor)
    revisions = rule.revisions.count()
    with pytest.raises(NotFound, match="Rule gone does not exist"):
        rule_set_state(rule=rule, state=RuleState.DISABLED, actor=actor)
    with pytest.raises(NotFound):
        rule_restore_revision(rule=rule, number=1, actor=actor)
    with pytest.raises(NotFound):
        rule_delete(rule=rule, actor=actor)
    with pytest.raises(NotFound):
        targets_put(rule=rule, targets=[TargetSpec("t", "handler", "tests.recorder")],
                    actor=actor)
    assert rule.revisions.count() == revisions


def test_a_bus_whose_rules_were_deleted_is_deleted_and_keeps_its_history(
    default_bus: EventBus, actor: Actor
) -> None:
    bus_create(name="payments", actor=actor)
    rule = rule_put(bus_name="payments", name="old", event_pattern=NEW_ORDER, actor=actor)
    with pytest.raises(ValidationError, match="still has rules"):
        bus_delete(name="payments", actor=actor)
    rule_delete(rule=rule, actor=actor)
    assert bus_delete(name="payments", actor=actor) is True
    assert not EventBus.objects.filter(name="payments").exists()
    # The row stays for the rule's revisions, and the name can be used again.
    gone = EventBus.all_objects.get(name="payments")
    assert gone.deleted_at is not None
    assert Rule.objects.get(pk=rule.pk).bus == gone
    again = bus_create(name="payments", actor=actor)
    assert again.pk != gone.pk
    assert bus_delete(name="payments", actor=actor) is True
    assert bus_delete(name="payments", actor=actor) is False


def test_an_editor_save_is_refused_when_the_rule_moved_on(
    default_bus: EventBus, actor: Actor
) -> None:
    from routing.errors import ConcurrentModification

    rule_put(bus_name="default", name="r", event_pattern=NEW_ORDER, actor=actor,
             expected_revision=0)
    with pytest.raises(ConcurrentModification, match="already exists"):
        rule_put(bus_name="default", name="r", event_pattern=NEW_ORDER, actor=actor,
                 expected_revision=0)
    rule_put(bus_name="default", name="r", event_pattern={"source": ["x"]}, actor=actor,
             expected_revision=1)
    with pytest.raises(ConcurrentModification, match="at revision 2, not 1"):
        rule_put(bus_name="default", name="r", event_pattern={"source": ["y"]}, actor=actor,
                 expected_revision=1)
    assert Rule.objects.get(name="r", deleted_at__isnull=True).event_pattern == {"source": ["x"]}
