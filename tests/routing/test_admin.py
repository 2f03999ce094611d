"""The bus's Django admin, driven through the test client as a superuser: pages render, writes go
through the services (revisions name the admin user), invalid input is a form error with the
services' message and saves nothing, and the records the bus keeps cannot be edited."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from routing.errors import ValidationError
from routing.handlers import PermanentHandlerError
from routing.models import (
    ApiKey,
    Archive,
    ArchivedEvent,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    EventBus,
    PendingRoute,
    Replay,
    ReplayState,
    Rule,
    RuleRevision,
    RuleState,
    Target,
)
from routing.services import (
    Actor,
    TargetSpec,
    delivery_attempt,
    event_publish,
    route_events,
    rule_put,
    targets_put,
)
from routing.services.apikeys import apikey_authenticate, apikey_create
from routing.services.archives import archive_create
from routing.services.replays import replay_start
from routing.services.rules import TargetFailure
from routing.transform.definitions import InvalidTargetInputError
from routing.transform.target_input import InputTransformer, TargetInput
from tests.support.publishers import TEST_PUBLISHER

pytestmark = pytest.mark.django_db

PATTERN = {"source": ["shop"], "detail-type": ["OrderPlaced"]}
BAD_NUMERIC = '{"detail": {"size": [{"numeric": [">", "x"]}]}}'
BAD_NUMERIC_MESSAGE = "Event pattern is not valid. Reason: Value of > must be numeric"


def url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:routing_{model._meta.model_name}_{view}", args=args)


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def form_data(response: Any) -> dict[str, Any]:
    """The POST a browser would send for the admin form as rendered (main form and inlines)."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    data: dict[str, Any] = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(item) for item in value]
            elif value is not None:
                data[key] = str(value)
    return data


def target_form(index: int, **values: Any) -> dict[str, str]:
    """A new target in the rule page's inline, with the model's defaults."""
    fields = {
        "target_id": "store", "kind": "handler", "address": "tests.recorder", "input": "",
        "input_path": "", "input_transformer": "", "max_retry_attempts": "185",
        "max_event_age_seconds": "86400", "dead_letter_enabled": "on",
        "webhook_timeout_seconds": "5.0", **values,
    }
    return {f"targets-{index}-{key}": str(value) for key, value in fields.items()}


def with_new_target(data: dict[str, Any], **values: Any) -> dict[str, Any]:
    index = int(data["targets-TOTAL_FORMS"])
    return {**data, **target_form(index, **values), "targets-TOTAL_FORMS": str(index + 1)}


@pytest.fixture
def client(admin_client: Client) -> Client:
    return admin_client


@pytest.fixture
def plain_rule(default_bus: EventBus, actor: Actor) -> Rule:
    """A rule at revision 1, without targets."""
    return rule_put(bus_name="default", name="orders", event_pattern=PATTERN, actor=actor)


@pytest.fixture
def rule(default_bus: EventBus, actor: Actor, recorder: Any) -> Rule:
    """A rule with one handler target (revision 2)."""
    made = rule_put(bus_name="default", name="orders", event_pattern=PATTERN, actor=actor)
    targets_put(rule=made, actor=actor, targets=[TargetSpec("store", "handler", "tests.recorder")])
    return Rule.objects.get(pk=made.pk)


@dataclass
class World:
    rule: Rule
    event: Event
    dead: Delivery
    succeeded: Delivery
    pending_route: PendingRoute
    archive: Archive
    replay: Replay
    api_key: ApiKey


def publish_and_route(order: str) -> Event:
    event = event_publish(
        publisher=TEST_PUBLISHER, source="shop", detail_type="OrderPlaced",
        detail={"orderId": order})
    route_events([str(event.pk)])
    return event


def attempt(delivery: Delivery) -> Delivery:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    delivery_attempt(str(delivery.pk))
    return Delivery.objects.get(pk=delivery.pk)


@pytest.fixture
def world(rule: Rule, recorder: Any, actor: Actor) -> World:
    """One of every record: an archived, routed event whose delivery is dead, another that
    succeeded, an event still waiting to be routed, a replay and an API key."""
    archive = archive_create(name="everything", bus_name="default", actor=actor)
    event = publish_and_route("o-1")
    recorder.failures_left, recorder.error = 1, PermanentHandlerError("no such order")
    dead = attempt(Delivery.objects.get(event=event))
    assert dead.status == DeliveryStatus.DEAD
    succeeded = attempt(Delivery.objects.get(event=publish_and_route("o-2")))
    assert succeeded.status == DeliveryStatus.SUCCEEDED
    waiting = event_publish(
        publisher=TEST_PUBLISHER, source="shop", detail_type="OrderPlaced",
        detail={"orderId": "o-3"})
    replay = replay_start(name="again", archive_name="everything", actor=actor,
                          event_start_time=timezone.now() - timedelta(hours=1),
                          event_end_time=timezone.now())
    api_key, _ = apikey_create(name="kiosk", bus_names=["default"])
    return World(rule=rule, event=event, dead=dead, succeeded=succeeded,
                 pending_route=PendingRoute.objects.get(event=waiting), archive=archive,
                 replay=replay, api_key=api_key)


def objects_of(world: World) -> dict[type[Model], Model]:
    return {
        EventBus: world.rule.bus,
        Rule: world.rule,
        Target: world.rule.targets.get(),
        RuleRevision: world.rule.revisions.get(number=2),
        Event: world.event,
        PendingRoute: world.pending_route,
        Delivery: world.dead,
        DeliveryAttempt: DeliveryAttempt.objects.get(delivery=world.dead),
        Archive: world.archive,
        ArchivedEvent: ArchivedEvent.objects.get(event=world.event),
        Replay: world.replay,
        ApiKey: world.api_key,
    }


# Every page ----------------------------------------------------------------------------------

def test_every_changelist_and_change_page_renders_with_data(client: Client, world: World) -> None:
    for model, obj in objects_of(world).items():
        listing = client.get(url(model, "changelist"))
        assert listing.status_code == 200, model
        assert listing.context["cl"].result_count >= 1, model
        page = client.get(url(model, "change", obj.pk))
        assert page.status_code == 200, model
    for model in (EventBus, Rule, Archive, Replay, ApiKey):
        assert client.get(url(model, "add")).status_code == 200, model
    assert client.get(reverse("admin:index")).status_code == 200


def test_changelists_run_the_same_number_of_queries_for_more_rows(
    client: Client, world: World, actor: Actor, recorder: Any
) -> None:
    def counts() -> dict[type[Model], int]:
        result = {}
        for model in objects_of(world):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url(model, "changelist")).status_code == 200
            result[model] = len(queries)
        return result

    before = counts()
    bus = EventBus.objects.create(name="payments")
    for n in range(3):
        made = rule_put(bus_name="payments", name=f"r{n}", event_pattern=PATTERN, actor=actor)
        targets_put(rule=made, actor=actor,
                    targets=[TargetSpec(f"t{n}", "handler", "tests.recorder")])
        attempt(Delivery.objects.get(event=publish_and_route(f"more-{n}")))
        event_publish(
            publisher=TEST_PUBLISHER, source="shop", detail_type="OrderPlaced", detail={"n": n})
        archive_create(name=f"archive-{n}", bus_name=bus.name, actor=actor)
        replay_start(name=f"again-{n}", archive_name="everything", actor=actor,
                     event_start_time=timezone.now() - timedelta(hours=1),
                     event_end_time=timezone.now())
        apikey_create(name=f"key-{n}", bus_names=["default", "payments"])
    assert counts() == before


# Rules ---------------------------------------------------------------------------------------

def test_an_invalid_pattern_shows_the_engines_message_and_saves_nothing(
    client: Client, default_bus: EventBus
) -> None:
    page = client.get(url(Rule, "add"))
    data = {**form_data(page), "bus": str(default_bus.pk), "name": "big",
            "state": "ENABLED", "event_pattern": BAD_NUMERIC}
    response = client.post(url(Rule, "add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["event_pattern"] == [BAD_NUMERIC_MESSAGE, "Offending field: detail.size"]
    assert b"Value of &gt; must be numeric" in response.content
    assert not Rule.objects.exists()
    assert not RuleRevision.objects.exists()


def test_malformed_json_in_a_pattern_gets_the_engines_message(
    client: Client, plain_rule: Rule
) -> None:
    page = client.get(url(Rule, "change", plain_rule.pk))
    response = client.post(url(Rule, "change", plain_rule.pk),
                           {**form_data(page), "event_pattern": "{bad"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["event_pattern"] == [
        "Event pattern is not valid. Reason: Unexpected character ('b' (code 98)): was expecting "
        "double-quote to start field name"
    ]
    plain_rule.refresh_from_db()
    assert (plain_rule.revision, plain_rule.event_pattern) == (1, PATTERN)


def test_the_pattern_is_edited_as_indented_json(client: Client, plain_rule: Rule) -> None:
    page = client.get(url(Rule, "change", plain_rule.pk))
    assert form_data(page)["event_pattern"] == json.dumps(PATTERN, indent=2)


def test_a_valid_change_records_revision_2_by_the_admin_user(
    client: Client, plain_rule: Rule, admin_user: Any
) -> None:
    page = client.get(url(Rule, "change", plain_rule.pk))
    new_pattern = {"source": ["shop"], "detail-type": ["OrderCancelled"]}
    response = client.post(url(Rule, "change", plain_rule.pk), {
        **form_data(page), "event_pattern": json.dumps(new_pattern), "description": "cancels",
    })
    assert response.status_code == 302
    plain_rule.refresh_from_db()
    assert (plain_rule.revision, plain_rule.event_pattern) == (2, new_pattern)
    assert plain_rule.description == "cancels"
    revision = plain_rule.revisions.get(number=2)
    assert revision.changed_by == admin_user
    assert revision.changed_by_label == "user:admin"
    assert revision.change == "changed pattern, description"
    assert revision.event_pattern == new_pattern


def test_adding_a_rule_with_a_target_goes_through_the_services(
    client: Client, default_bus: EventBus, recorder: Any, admin_user: Any
) -> None:
    page = client.get(url(Rule, "add"))
    data = {**form_data(page), "bus": str(default_bus.pk), "name": "orders", "state": "ENABLED",
            "event_pattern": json.dumps(PATTERN), **target_form(0)}
    response = client.post(url(Rule, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = Rule.objects.get(name="orders")
    assert response["Location"] == url(Rule, "changelist")
    assert [(t.target_id, t.address) for t in rule.targets.all()] == [("store", "tests.recorder")]
    revisions = list(rule.revisions.order_by("number"))
    assert [(r.number, r.change) for r in revisions] == [(1, "created"), (2, "targets set: store")]
    assert {r.changed_by for r in revisions} == {admin_user}
    assert revisions[1].targets[0]["Id"] == "store"


def test_adding_a_rule_never_replaces_one_with_the_same_name(
    client: Client, plain_rule: Rule
) -> None:
    page = client.get(url(Rule, "add"))
    response = client.post(url(Rule, "add"), {
        **form_data(page), "bus": str(plain_rule.bus_id), "name": "orders", "state": "ENABLED",
        "event_pattern": '{"source": ["other"]}',
    })
    assert response.context["adminform"].form.errors["name"] == [
        "Rule orders already exists on event bus default."
    ]
    plain_rule.refresh_from_db()
    assert (plain_rule.revision, plain_rule.event_pattern) == (1, PATTERN)


def test_an_invalid_input_transformer_is_an_error_on_its_field(
    client: Client, plain_rule: Rule, recorder: Any
) -> None:
    transformer = {"InputPathsMap": {"id": "$.detail.id"}, "InputTemplate": '{"id": <nope>}'}
    with pytest.raises(InvalidTargetInputError) as expected:
        TargetInput(input_transformer=InputTransformer(
            input_template=transformer["InputTemplate"],
            input_paths_map=transformer["InputPathsMap"],
        )).validate(target_id="shaped")
    page = client.get(url(Rule, "change", plain_rule.pk))
    data = with_new_target(form_data(page), target_id="shaped",
                           input_transformer=json.dumps(transformer))
    response = client.post(url(Rule, "change", plain_rule.pk), data)
    assert response.status_code == 200
    target_errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert target_errors == {"input_transformer": [str(expected.value)]}
    assert not Target.objects.exists()
    plain_rule.refresh_from_db()
    assert plain_rule.revision == 1


def test_only_one_kind_of_input_is_allowed(client: Client, plain_rule: Rule,
                                           recorder: Any) -> None:
    page = client.get(url(Rule, "change", plain_rule.pk))
    data = with_new_target(form_data(page), input='{"a": 1}', input_path="$.detail")
    response = client.post(url(Rule, "change", plain_rule.pk), data)
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert errors == {"input": [
        "Only one of Input, InputPath, or InputTransformer must be provided for target store."
    ]}
    assert not Target.objects.exists()


def test_an_unknown_handler_is_refused_and_the_help_lists_the_registered_ones(
    client: Client, plain_rule: Rule, recorder: Any
) -> None:
    page = client.get(url(Rule, "change", plain_rule.pk))
    assert "tests.recorder" in page.context["inline_admin_formsets"][0].formset.empty_form[
        "address"].help_text
    data = with_new_target(form_data(page), address="no.such.handler")
    response = client.post(url(Rule, "change", plain_rule.pk), data)
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert list(errors) == ["address"]
    assert errors["address"][0].startswith("no handler named 'no.such.handler' is registered")
    assert "tests.recorder" in errors["address"][0]
    assert not Target.objects.exists()


def test_a_private_webhook_address_is_refused(
    client: Client, plain_rule: Rule, settings: Any
) -> None:
    settings.ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    page = client.get(url(Rule, "change", plain_rule.pk))
    data = with_new_target(form_data(page), kind="webhook", address="http://127.0.0.1:9/hook")
    response = client.post(url(Rule, "change", plain_rule.pk), data)
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert errors == {"address": [
        "Webhook URL http://127.0.0.1:9 is refused: 127.0.0.1 is a loopback address; set "
        "ROUTING_WEBHOOK_ALLOW_PRIVATE_ADDRESSES to allow it."
    ]}
    assert not Target.objects.exists()


def test_retry_policy_bounds_are_errors_on_their_fields(
    client: Client, plain_rule: Rule, recorder: Any
) -> None:
    page = client.get(url(Rule, "change", plain_rule.pk))
    data = with_new_target(form_data(page), max_retry_attempts="500",
                           max_event_age_seconds="10")
    response = client.post(url(Rule, "change", plain_rule.pk), data)
    errors = response.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert set(errors) == {"max_retry_attempts", "max_event_age_seconds"}
    assert not Target.objects.exists()


def test_editing_and_removing_targets_go_through_the_services(
    client: Client, rule: Rule, admin_user: Any
) -> None:
    old = rule.targets.get()
    page = client.get(url(Rule, "change", rule.pk))
    data = {**form_data(page), "targets-0-input_path": "$.detail"}
    assert client.post(url(Rule, "change", rule.pk), data).status_code == 302
    live = rule.targets.get(deleted_at__isnull=True)
    assert (live.target_id, live.input_path) == ("store", "$.detail")
    assert live.pk != old.pk  # a replaced target is retired and a new row takes its place
    assert rule.revisions.get(number=3).changed_by == admin_user

    page = client.get(url(Rule, "change", rule.pk))
    data = {**form_data(page), "targets-0-DELETE": "on"}
    assert client.post(url(Rule, "change", rule.pk), data).status_code == 302
    assert not rule.targets.filter(deleted_at__isnull=True).exists()
    assert Target.objects.filter(rule=rule).count() == 2  # kept, soft-deleted
    revision = rule.revisions.get(number=4)
    assert (revision.change, revision.changed_by, revision.targets) == (
        "targets removed: store", admin_user, [])


def test_renaming_a_target_removes_the_old_id(client: Client, rule: Rule) -> None:
    page = client.get(url(Rule, "change", rule.pk))
    data = {**form_data(page), "targets-0-target_id": "keep"}
    assert client.post(url(Rule, "change", rule.pk), data).status_code == 302
    assert [t.target_id for t in rule.targets.filter(deleted_at__isnull=True)] == ["keep"]


def test_a_rule_with_targets_is_deleted_only_when_forced(
    client: Client, rule: Rule, admin_user: Any
) -> None:
    confirm = client.get(url(Rule, "delete", rule.pk))
    assert confirm.status_code == 200
    assert b'name="force"' in confirm.content

    refused = client.post(url(Rule, "delete", rule.pk), {"post": "yes"}, follow=True)
    assert "Rule can't be deleted since it has targets." in messages_of(refused)
    rule.refresh_from_db()
    assert rule.deleted_at is None
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()

    client.post(url(Rule, "delete", rule.pk), {"post": "yes", "force": "on"})
    rule.refresh_from_db()
    assert rule.deleted_at is not None
    assert not rule.targets.filter(deleted_at__isnull=True).exists()
    assert rule.revisions.get(number=3).changed_by == admin_user
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 1


def test_bulk_delete_reports_each_refusal(client: Client, rule: Rule, actor: Actor) -> None:
    empty = rule_put(bus_name="default", name="empty", event_pattern=PATTERN, actor=actor)
    selection = {"action": "delete_selected", "_selected_action": [rule.pk, empty.pk]}
    confirm = client.post(url(Rule, "changelist"), selection)
    assert confirm.status_code == 200
    assert b'name="force"' in confirm.content
    done = client.post(url(Rule, "changelist"), {**selection, "post": "yes"}, follow=True)
    assert messages_of(done) == [
        "Deleted 1 rule.",
        "Not deleted: default/orders: Rule can't be deleted since it has targets.",
    ]
    assert Rule.objects.get(pk=empty.pk).deleted_at is not None
    assert Rule.objects.get(pk=rule.pk).deleted_at is None


def test_soft_deleted_rules_are_hidden_unless_asked_for(
    client: Client, plain_rule: Rule, actor: Actor
) -> None:
    rule_put(bus_name="default", name="gone", event_pattern=PATTERN, actor=actor)
    client.post(url(Rule, "delete", Rule.objects.get(name="gone").pk), {"post": "yes"})
    names = [r.name for r in client.get(url(Rule, "changelist")).context["cl"].result_list]
    assert names == ["orders"]
    deleted = client.get(url(Rule, "changelist"), {"deleted": "yes"})
    assert [r.name for r in deleted.context["cl"].result_list] == ["gone"]
    everything = client.get(url(Rule, "changelist"), {"deleted": "all"})
    assert everything.context["cl"].result_count == 2
    # A deleted rule can be looked at, not changed or deleted again.
    gone = Rule.objects.get(name="gone")
    assert client.get(url(Rule, "change", gone.pk)).context["has_change_permission"] is False
    assert client.get(url(Rule, "delete", gone.pk)).status_code == 403


def test_enable_and_disable_actions_record_revisions(
    client: Client, plain_rule: Rule, admin_user: Any
) -> None:
    response = client.post(url(Rule, "changelist"), {
        "action": "disable_rules", "_selected_action": [plain_rule.pk],
    }, follow=True)
    assert messages_of(response) == ["Disabled 1 rule: default/orders."]
    plain_rule.refresh_from_db()
    assert (plain_rule.state, plain_rule.revision) == (RuleState.DISABLED, 2)
    assert plain_rule.revisions.get(number=2).changed_by == admin_user
    client.post(url(Rule, "changelist"), {"action": "enable_rules",
                                          "_selected_action": [plain_rule.pk]})
    plain_rule.refresh_from_db()
    assert (plain_rule.state, plain_rule.revision) == (RuleState.ENABLED, 3)


def test_restoring_a_revision(client: Client, plain_rule: Rule, actor: Actor,
                              admin_user: Any) -> None:
    rule_put(bus_name="default", name="orders", event_pattern={"source": ["elsewhere"]},
             actor=actor)
    first = plain_rule.revisions.get(number=1)
    response = client.post(url(RuleRevision, "changelist"), {
        "action": "restore_revision", "_selected_action": [first.pk],
    }, follow=True)
    assert messages_of(response) == [
        "Restored default/orders to revision 1 (now revision 3)."
    ]
    plain_rule.refresh_from_db()
    assert (plain_rule.revision, plain_rule.event_pattern) == (3, PATTERN)
    latest = plain_rule.revisions.get(number=3)
    assert (latest.change, latest.changed_by) == ("restored revision 1", admin_user)


def test_restoring_two_revisions_of_one_rule_is_refused(
    client: Client, plain_rule: Rule, actor: Actor
) -> None:
    rule_put(bus_name="default", name="orders", event_pattern={"source": ["elsewhere"]},
             actor=actor)
    response = client.post(url(RuleRevision, "changelist"), {
        "action": "restore_revision",
        "_selected_action": list(plain_rule.revisions.values_list("pk", flat=True)),
    }, follow=True)
    assert messages_of(response) == [
        "Not restored: default/orders: choose one revision to restore, not 2, 1."
    ]
    plain_rule.refresh_from_db()
    assert plain_rule.revision == 2


# Read-only records ---------------------------------------------------------------------------

READ_ONLY = (Event, RuleRevision, Delivery, DeliveryAttempt, ArchivedEvent, PendingRoute, Target)


def test_the_records_the_bus_keeps_cannot_be_added_changed_or_deleted(
    client: Client, world: World
) -> None:
    objects = objects_of(world)
    for model in READ_ONLY:
        obj = objects[model]
        assert client.get(url(model, "add")).status_code == 403, model
        assert client.get(url(model, "delete", obj.pk)).status_code == 403, model
        assert client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
        assert client.post(url(model, "change", obj.pk), {}).status_code == 403, model
        page = client.get(url(model, "change", obj.pk))
        assert page.context["has_change_permission"] is False, model
        assert b'name="_save"' not in page.content, model
        listing = client.get(url(model, "changelist"))
        action_form = listing.context["action_form"]
        actions = [] if action_form is None else [
            name for name, _ in action_form.fields["action"].choices]
        assert "delete_selected" not in actions, model
        assert model.objects.filter(pk=obj.pk).exists(), model


def test_events_cannot_be_deleted_from_the_admin(client: Client, world: World) -> None:
    event = world.event
    assert client.get(url(Event, "delete", event.pk)).status_code == 403
    response = client.post(url(Event, "changelist"), {
        "action": "delete_selected", "_selected_action": [str(event.pk)], "post": "yes",
    }, follow=True)
    assert response.status_code == 200
    assert Event.objects.filter(pk=event.pk).exists()
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()


def test_an_event_shows_its_envelope_and_its_deliveries(client: Client, world: World) -> None:
    event = world.event
    page = client.get(url(Event, "change", event.pk))
    pretty = json.dumps(event.envelope(), indent=2).replace('"', "&quot;")
    assert pretty in page.content.decode()
    deliveries_url = url(Delivery, "changelist") + f"?event__id__exact={event.pk}"
    assert deliveries_url in page.content.decode()
    listing = client.get(deliveries_url)
    assert [d.pk for d in listing.context["cl"].result_list] == [world.dead.pk]
    # The delivery's own page shows its attempts.
    delivery_page = client.get(url(Delivery, "change", world.dead.pk))
    attempts = delivery_page.context["inline_admin_formsets"][0].formset.queryset
    assert [a.error for a in attempts] == ["no such order"]


def test_searching_by_event_id_finds_the_event(client: Client, world: World) -> None:
    found = client.get(url(Event, "changelist"), {"q": str(world.event.pk)})
    assert [e.pk for e in found.context["cl"].result_list] == [world.event.pk]
    by_source = client.get(url(Event, "changelist"), {"q": "shop"})
    assert by_source.context["cl"].result_count == 3
    deliveries = client.get(url(Delivery, "changelist"), {"q": str(world.event.pk)})
    assert [d.pk for d in deliveries.context["cl"].result_list] == [world.dead.pk]


def test_redriving_dead_letters_reports_what_was_skipped(client: Client, world: World) -> None:
    response = client.post(url(Delivery, "changelist"), {
        "action": "redrive_dead_letters",
        "_selected_action": [str(world.dead.pk), str(world.succeeded.pk)],
    }, follow=True)
    assert messages_of(response) == [
        f"Redrove 1 delivery: {world.dead.pk}.",
        f"Skipped 1 delivery that were not dead or dropped: {world.succeeded.pk}.",
    ]
    world.dead.refresh_from_db()
    assert (world.dead.status, world.dead.redrive_count) == (DeliveryStatus.PENDING, 1)
    world.succeeded.refresh_from_db()
    assert world.succeeded.status == DeliveryStatus.SUCCEEDED


# Buses, archives, replays, API keys ----------------------------------------------------------

def test_buses_are_created_and_deleted_through_the_services(
    client: Client, default_bus: EventBus
) -> None:
    response = client.post(url(EventBus, "add"), {"name": "payments", "description": "money"})
    assert response.status_code == 302
    payments = EventBus.objects.get(name="payments")
    assert payments.description == "money"

    bad = client.post(url(EventBus, "add"), {"name": "no spaces", "description": ""})
    assert "name" in bad.context["adminform"].form.errors

    refused = client.post(url(EventBus, "delete", default_bus.pk), {"post": "yes"}, follow=True)
    assert messages_of(refused) == ["Cannot delete event bus default."]
    assert EventBus.objects.filter(name="default").exists()

    client.post(url(EventBus, "delete", payments.pk), {"post": "yes"})
    assert not EventBus.objects.filter(name="payments").exists()


def test_archives_validate_their_pattern_and_use_the_services(
    client: Client, default_bus: EventBus
) -> None:
    page = client.get(url(Archive, "add"))
    data = {**form_data(page), "name": "big", "bus": str(default_bus.pk), "retention_days": "0",
            "event_pattern": BAD_NUMERIC}
    response = client.post(url(Archive, "add"), data)
    assert response.context["adminform"].form.errors["event_pattern"] == [
        BAD_NUMERIC_MESSAGE, "Offending field: detail.size"]
    assert not Archive.objects.exists()

    data["event_pattern"] = json.dumps(PATTERN)
    assert client.post(url(Archive, "add"), data).status_code == 302
    archive = Archive.objects.get(name="big")
    assert archive.event_pattern == PATTERN

    page = client.get(url(Archive, "change", archive.pk))
    changed = {**form_data(page), "retention_days": "7", "event_pattern": "", "state": "DISABLED"}
    assert client.post(url(Archive, "change", archive.pk), changed).status_code == 302
    archive.refresh_from_db()
    assert (archive.retention_days, archive.event_pattern, archive.state) == (7, None, "DISABLED")

    client.post(url(Archive, "delete", archive.pk), {"post": "yes"})
    assert not Archive.objects.exists()


def test_a_replay_error_from_the_service_is_shown_on_its_field(
    client: Client, default_bus: EventBus, actor: Actor
) -> None:
    archive = archive_create(name="everything", bus_name="default", actor=actor)
    tomorrow = timezone.now() + timedelta(days=1)
    data = {
        "name": "again", "description": "", "archive": str(archive.pk),
        "event_start_time_0": "2020-01-01", "event_start_time_1": "00:00:00",
        "event_end_time_0": tomorrow.strftime("%Y-%m-%d"), "event_end_time_1": "00:00:00",
        "destination_bus": "",
    }
    response = client.post(url(Replay, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["event_end_time"] == [
        "Parameter EventEndTime is not valid. Reason: EventEndTime must not be in the future "
        "(a replay covers events that have already happened)."
    ]
    assert not Replay.objects.exists()

    data["event_end_time_0"] = "2021-01-01"
    added = client.post(url(Replay, "add"), data, follow=True)
    assert messages_of(added) == ["The replay “again” was added successfully."]
    replay = Replay.objects.get(name="again")
    assert (replay.state, replay.destination_bus) == (ReplayState.STARTING, default_bus)

    response = client.post(url(Replay, "changelist"), {
        "action": "cancel_replays", "_selected_action": [replay.pk],
    }, follow=True)
    assert messages_of(response) == ["Cancelled 1 replay: again (cancelled)."]
    replay.refresh_from_db()
    assert replay.state == ReplayState.CANCELLED
    again = client.post(url(Replay, "changelist"), {
        "action": "cancel_replays", "_selected_action": [replay.pk],
    }, follow=True)
    assert messages_of(again) == [
        "Failed: again: Replay again is not in a valid state for this operation."
    ]


def test_an_api_key_is_shown_once_and_can_be_revoked(
    client: Client, default_bus: EventBus
) -> None:
    response = client.post(url(ApiKey, "add"), {"name": "kiosk", "buses": [default_bus.pk]},
                           follow=True)
    shown = [m for m in messages_of(response) if "copy it now" in m]
    assert len(shown) == 1
    raw_key = shown[0].split(" is ", 1)[1].split(" ", 1)[0]
    key = ApiKey.objects.get(name="kiosk")
    granted = apikey_authenticate(raw_key)
    assert granted is not None
    assert granted.pk == key.pk
    assert list(key.buses.all()) == [default_bus]
    # Once: the next page no longer carries it, nor does the key's own page.
    assert raw_key not in client.get(url(ApiKey, "changelist")).content.decode()
    assert raw_key not in client.get(url(ApiKey, "change", key.pk)).content.decode()

    bad = client.post(url(ApiKey, "add"), {"name": "-bad"})
    assert bad.context["adminform"].form.errors["name"][0].startswith("An API key name is")

    revoked = client.post(url(ApiKey, "changelist"), {
        "action": "revoke_keys", "_selected_action": [key.pk],
    }, follow=True)
    assert messages_of(revoked) == ["Revoked 1 API key: kiosk."]
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert apikey_authenticate(raw_key) is None


def test_every_admin_link_on_every_page_opens(client: Client, world: World) -> None:
    """The cross-links (a rule's revisions, an event's deliveries, ...) filter by lookups the
    admin must allow; a refused lookup would redirect to ?e=1 instead."""
    pages = [url(model, view, *([obj.pk] if view == "change" else []))
             for model, obj in objects_of(world).items() for view in ("change", "changelist")]
    links: set[str] = set()
    for page in pages:
        content = client.get(page).content.decode()
        links.update(html.unescape(href) for href in re.findall(r'href="(/admin/routing/[^"]*)"',
                                                                 content))
    assert len(links) > 40
    for href in sorted(links):
        response = client.get(href)
        assert response.status_code == 200, href


def test_a_service_error_while_saving_is_shown_on_its_field_and_saves_nothing(
    client: Client, plain_rule: Rule, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A check only the service can make at save time (a concurrent change, say).
    def refuse(**kwargs: Any) -> Rule:
        raise ValidationError("Description was changed meanwhile.", field="Description")

    monkeypatch.setattr("routing.admin.rules.rule_put", refuse)
    page = client.get(url(Rule, "change", plain_rule.pk))
    response = client.post(url(Rule, "change", plain_rule.pk),
                           {**form_data(page), "description": "new"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "description": ["Description was changed meanwhile."]
    }
    assert not LogEntry.objects.exists()


def test_a_target_the_service_refuses_at_save_undoes_the_rules_change_too(
    client: Client, plain_rule: Rule, recorder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*, rule: Rule, targets: Any, actor: Actor) -> list[TargetFailure]:
        return [TargetFailure("store", "LimitExceededException", "Too many targets.")]

    monkeypatch.setattr("routing.admin.rules.targets_put", refuse)
    page = client.get(url(Rule, "change", plain_rule.pk))
    data = with_new_target({**form_data(page), "description": "new"})
    response = client.post(url(Rule, "change", plain_rule.pk), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Target store: Too many targets."
    ]
    plain_rule.refresh_from_db()
    assert (plain_rule.revision, plain_rule.description) == (1, "")
    assert not Target.objects.exists()


def test_a_bus_is_deleted_once_its_rules_are_and_refused_with_a_message_before(
    client: Client, default_bus: EventBus, actor: Actor
) -> None:
    payments = EventBus.objects.create(name="payments")
    rule_put(bus_name="payments", name="old", event_pattern=PATTERN, actor=actor)
    response = client.post(url(EventBus, "delete", payments.pk), {"post": "yes"}, follow=True)
    assert messages_of(response) == [
        "Event bus payments still has rules: delete them (and its archives) first."]
    assert EventBus.objects.filter(name="payments").exists()
    client.post(url(Rule, "delete", Rule.objects.get(name="old").pk), {"post": "yes"},
                follow=True)
    client.post(url(EventBus, "delete", payments.pk), {"post": "yes"}, follow=True)
    assert not EventBus.objects.filter(name="payments").exists()
    # Its row stays for the deleted rule's history.
    assert EventBus.all_objects.get(pk=payments.pk).deleted_at is not None


def test_aws_credentials_are_listed_and_revoked_never_shown(client: Client) -> None:
    from routing.aws.credentials import awscredential_create
    from routing.models import AwsCredential

    credential, secret = awscredential_create(name="ci-bot")
    listing = client.get(url(AwsCredential, "changelist"))
    assert listing.status_code == 200
    assert credential.access_key_id in listing.content.decode()
    page = client.get(url(AwsCredential, "change", credential.pk)).content.decode()
    assert secret not in page
    assert credential.secret_access_key_encrypted not in page
    assert client.get(url(AwsCredential, "add")).status_code == 403
    response = client.post(url(AwsCredential, "changelist"), {
        "action": "revoke_credentials", "_selected_action": [credential.pk],
    }, follow=True)
    assert messages_of(response) == ["Revoked 1 AWS credential: ci-bot."]
    credential.refresh_from_db()
    assert credential.revoked_at is not None
