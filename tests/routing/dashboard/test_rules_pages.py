"""The rule editor's pages through the test client: staff only, the rules list, creating and
editing rules (each save a revision, errors on the form and nothing saved), enabling and
disabling, targets, history, diffs and restore."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from routing.models import Delivery, Rule, RuleRevision, RuleState, Target
from routing.services import Actor, TargetSpec, rule_put, targets_put
from routing.transform.target_input import InputTransformer, TargetInput
from tests.routing.dashboard.test_rules_support import (
    BUS,
    CURRENT,
    PROPOSED,
    client_for,
    make_bus,
    make_event,
    make_rule,
    make_user,
)

pytestmark = pytest.mark.django_db

BAD_NUMERIC = '{\n  "detail": {\n    "n": [{"numeric": 5}]\n  }\n}'


@pytest.fixture
def staff() -> Any:
    return make_user("ops")


@pytest.fixture
def client(staff: Any) -> Client:
    return client_for(staff)


@pytest.fixture
def rule() -> Rule:
    return make_rule(make_bus(), description="Numbers below ten")


def text_of(response: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def add_recorder_target(rule: Rule, target_id: str = "t1") -> None:
    from routing.handlers import register_handler

    register_handler("tests.dashboard.noop")(_noop)
    failures = targets_put(rule=rule, actor=Actor.system("test"), targets=[
        TargetSpec(target_id=target_id, kind="handler", address="tests.dashboard.noop"),
    ])
    assert failures == []


def _noop(payload: Any, context: Any) -> None:
    del payload, context


# Who may use it ------------------------------------------------------------------------------

def page_urls(rule: Rule) -> list[str]:
    return [
        reverse("dashboard-rules:list"),
        reverse("dashboard-rules:create") + f"?bus={BUS}",
        reverse("dashboard-rules:edit", args=[rule.pk]),
        reverse("dashboard-rules:targets", args=[rule.pk]),
        reverse("dashboard-rules:history", args=[rule.pk]),
        reverse("dashboard-rules:revision", args=[rule.pk, 1]),
    ]


def test_anonymous_visitors_are_sent_to_log_in(rule: Rule) -> None:
    for url in page_urls(rule):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=/dashboard/rules/"), url


def test_people_who_are_not_staff_are_refused(rule: Rule) -> None:
    client = client_for(make_user("barista", staff=False))
    for url in page_urls(rule):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("dashboard-rules:state", args=[rule.pk]),
                           {"state": "DISABLED"})
    assert response.status_code == 403
    response = client.post(reverse("dashboard-rules:revision-restore", args=[rule.pk, 1]))
    assert response.status_code == 403
    rule.refresh_from_db()
    assert (rule.state, rule.revision) == (RuleState.ENABLED, 1)


@pytest.mark.parametrize("name", ["check-pattern", "sandbox", "impact"])
def test_the_json_endpoints_answer_json_to_strangers(rule: Rule, name: str) -> None:
    url = reverse(f"dashboard-rules:{name}")
    anonymous = Client().post(url, {"event_pattern": "{}"})
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "NotAuthenticated"
    stranger = client_for(make_user("guest", staff=False)).post(url, {"event_pattern": "{}"})
    assert stranger.status_code == 403
    assert stranger.json() == {"code": "AccessDenied",
                               "message": "The operations dashboard is for staff."}


def test_target_preview_answers_json_to_strangers(rule: Rule) -> None:
    url = reverse("dashboard-rules:target-preview", args=[rule.pk])
    assert Client().post(url).status_code == 401
    assert client_for(make_user("guest", staff=False)).post(url).status_code == 403


# The rules list -------------------------------------------------------------------------------

def test_the_list_shows_each_rule_with_state_pattern_targets_revision_and_recent_matches(
    client: Client, rule: Rule
) -> None:
    add_recorder_target(rule)
    rule.refresh_from_db()
    quiet = make_rule(rule.bus, "Quiet", {"source": ["nobody"]}, state=RuleState.DISABLED)
    target = Target.objects.get(rule=rule, deleted_at__isnull=True)
    revision = RuleRevision.objects.get(rule=rule, number=rule.revision)
    now = timezone.now()
    for age in (timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)):
        event = make_event(rule.bus, n=1, ingested_at=now - age)
        Delivery.objects.create(event=event, target=target, rule_revision=revision,
                                next_attempt_at=now, expires_at=now + timedelta(days=1),
                                created_at=now - age)

    response = client.get(reverse("dashboard-rules:list") + f"?bus={BUS}")

    assert response.status_code == 200
    page = text_of(response)
    numbers = re.search(r'<tr data-rule="Numbers">(.*?)</tr>', page).group(1)
    assert "Enabled" in numbers
    assert "source: awsserverlessda.serverlesspresso" in numbers
    assert "detail.n: numeric >= 0 < 10" in numbers
    assert re.search(r"/targets/\">1</a>", numbers), "one target"
    assert f">r{rule.revision}</a>" in numbers
    assert re.search(r"data-recent-matches>2<", numbers), "two deliveries in the last hour"
    assert ">Disable</button>" in numbers
    quiet_row = re.search(r'<tr data-rule="Quiet">(.*?)</tr>', page).group(1)
    assert "Disabled" in quiet_row
    assert ">Enable</button>" in quiet_row
    assert "no record of its matches" in quiet_row  # no targets: no match count
    assert quiet.revision == 1


def test_the_list_picks_the_busiest_bus_and_refuses_an_unknown_one(client: Client) -> None:
    make_bus("empty")
    busy = make_bus()
    make_rule(busy)
    response = client.get(reverse("dashboard-rules:list"))
    assert response.context["bus"] == busy
    assert client.get(reverse("dashboard-rules:list") + "?bus=nope").status_code == 404


def test_disable_then_enable_from_the_list_each_make_a_revision(
    client: Client, rule: Rule, staff: Any
) -> None:
    back = reverse("dashboard-rules:list") + f"?bus={BUS}"
    url = reverse("dashboard-rules:state", args=[rule.pk])
    response = client.post(url, {"state": "DISABLED", "next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    rule.refresh_from_db()
    assert (rule.state, rule.revision) == (RuleState.DISABLED, 2)
    revision = RuleRevision.objects.get(rule=rule, number=2)
    assert (revision.change, revision.changed_by) == ("disabled", staff)
    client.post(url, {"state": "ENABLED", "next": "https://elsewhere.example/"})
    rule.refresh_from_db()
    assert (rule.state, rule.revision) == (RuleState.ENABLED, 3)


def test_a_bad_state_is_a_message_not_a_change(client: Client, rule: Rule) -> None:
    response = client.post(reverse("dashboard-rules:state", args=[rule.pk]),
                           {"state": "SOMETIMES"}, follow=True)
    assert "State must be one of ENABLED, DISABLED." in text_of(response)
    rule.refresh_from_db()
    assert rule.revision == 1


# Creating and editing -------------------------------------------------------------------------

def test_the_create_page_starts_from_the_latest_event_of_the_bus(client: Client) -> None:
    bus = make_bus()
    make_event(bus, n=1, detail_type="OrderManager.MakeOrder")
    response = client.get(reverse("dashboard-rules:create") + f"?bus={BUS}")
    assert response.status_code == 200
    textarea = re.search(r'<textarea name="event_pattern"[^>]*>(.*?)</textarea>',
                         response.content.decode(), re.S).group(1)
    assert json.loads(html.unescape(textarea)) == {
        "source": ["awsserverlessda.serverlesspresso"], "detail-type": ["OrderManager.MakeOrder"],
    }


def test_creating_a_rule_saves_revision_one_by_this_user(client: Client, staff: Any) -> None:
    make_bus()
    response = client.post(reverse("dashboard-rules:create") + f"?bus={BUS}", {
        "name": "BigOrders", "description": "Orders of three or more", "state": "ENABLED",
        "event_pattern": json.dumps(PROPOSED),
    })
    rule = Rule.objects.get(name="BigOrders")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard-rules:edit", args=[rule.pk])
    assert (rule.event_pattern, rule.revision, rule.bus.name) == (PROPOSED, 1, BUS)
    revision = rule.revisions.get()
    assert (revision.change, revision.changed_by, revision.changed_by_label) == (
        "created", staff, "user:ops")


def test_an_invalid_pattern_is_shown_on_the_form_and_nothing_is_saved(client: Client) -> None:
    make_bus()
    response = client.post(reverse("dashboard-rules:create") + f"?bus={BUS}", {
        "name": "Broken", "state": "ENABLED", "event_pattern": BAD_NUMERIC,
    })
    assert response.status_code == 400
    errors = response.context["form"].errors["event_pattern"]
    assert errors == ["Event pattern is not valid. Reason: Value of numeric must be an array.",
                      "Offending field: detail.n"]
    assert "Value of numeric must be an array." in text_of(response)
    assert not Rule.objects.filter(name="Broken").exists()


def test_creating_never_replaces_an_existing_rule(client: Client, rule: Rule) -> None:
    response = client.post(reverse("dashboard-rules:create") + f"?bus={BUS}", {
        "name": rule.name, "state": "ENABLED", "event_pattern": json.dumps(PROPOSED),
    })
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        f"Rule {rule.name} already exists on event bus {BUS}: open it to edit it."]
    rule.refresh_from_db()
    assert (rule.event_pattern, rule.revision) == (CURRENT, 1)


def test_a_bad_rule_name_is_the_services_message_on_the_name_field(client: Client) -> None:
    make_bus()
    response = client.post(reverse("dashboard-rules:create") + f"?bus={BUS}", {
        "name": "no spaces", "state": "ENABLED", "event_pattern": json.dumps(PROPOSED),
    })
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "Rule names are 1-64 characters: letters, digits, '.', '-' and '_'."]
    assert not Rule.objects.exists()


def test_saving_an_edit_creates_the_next_revision(
    client: Client, rule: Rule, staff: Any
) -> None:
    response = client.post(reverse("dashboard-rules:edit", args=[rule.pk]), {
        "name": "ignored: the name is fixed", "description": "Numbers 5 to 19",
        "state": "ENABLED", "event_pattern": json.dumps(PROPOSED, indent=2), "revision": "1",
    }, follow=True)
    rule.refresh_from_db()
    assert (rule.name, rule.event_pattern, rule.description, rule.revision) == (
        "Numbers", PROPOSED, "Numbers 5 to 19", 2)
    revision = rule.revisions.get(number=2)
    assert (revision.change, revision.changed_by) == ("changed pattern, description", staff)
    assert "Saved rule Numbers: revision 2 (changed pattern, description)." in text_of(response)


def test_saving_without_changes_makes_no_revision(client: Client, rule: Rule) -> None:
    response = client.post(reverse("dashboard-rules:edit", args=[rule.pk]), {
        "description": rule.description, "state": "ENABLED",
        "event_pattern": json.dumps(CURRENT), "revision": "1",
    }, follow=True)
    assert "Nothing changed: revision 1 is still current." in text_of(response)
    assert RuleRevision.objects.filter(rule=rule).count() == 1


def test_an_edit_over_a_newer_revision_is_refused_then_allowed_knowingly(
    client: Client, rule: Rule
) -> None:
    rule_put(bus_name=BUS, name=rule.name, event_pattern=CURRENT, state="DISABLED",
             actor=Actor.system("someone else"))
    data = {"description": "", "state": "ENABLED", "event_pattern": json.dumps(PROPOSED),
            "revision": "1"}
    response = client.post(reverse("dashboard-rules:edit", args=[rule.pk]), data)
    assert response.status_code == 400
    assert "This rule changed since you opened it: it is now at revision 2" in text_of(response)
    assert 'name="revision" value="2"' in response.content.decode()
    rule.refresh_from_db()
    assert rule.revision == 2

    response = client.post(reverse("dashboard-rules:edit", args=[rule.pk]),
                           {**data, "revision": "2"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.revision, rule.event_pattern, rule.state) == (3, PROPOSED, "ENABLED")


def test_a_managed_rule_cannot_be_saved_here(client: Client) -> None:
    bus = make_bus()
    managed = rule_put(bus_name=bus.name, name="Archive.all", event_pattern=CURRENT,
                       actor=Actor.system("archives"), managed_by="archive:all")
    page = client.get(reverse("dashboard-rules:edit", args=[managed.pk]))
    assert "This rule belongs to" in text_of(page)
    assert "Save as revision" not in text_of(page)
    response = client.post(reverse("dashboard-rules:edit", args=[managed.pk]), {
        "state": "ENABLED", "event_pattern": json.dumps(PROPOSED), "revision": "1",
    })
    assert response.status_code == 400
    assert "managed by archive:all and cannot be changed here" in text_of(response)
    managed.refresh_from_db()
    assert managed.event_pattern == CURRENT


def test_a_deleted_or_unknown_rule_is_not_found(client: Client, rule: Rule) -> None:
    from routing.services import rule_delete

    rule_delete(rule=rule, actor=Actor.system("test"))
    assert client.get(reverse("dashboard-rules:edit", args=[rule.pk])).status_code == 404
    assert client.get(reverse("dashboard-rules:edit", args=[999999])).status_code == 404


# Targets --------------------------------------------------------------------------------------

def target_data(prefix: str = "new", **values: Any) -> dict[str, Any]:
    data = {
        "target_id": "audit", "kind": "handler", "address": "tests.dashboard.noop",
        "webhook_timeout_seconds": "5", "input_mode": "event", "input": "", "input_path": "",
        "input_transformer": "", "max_retry_attempts": "185", "max_event_age_seconds": "86400",
        "dead_letter_enabled": "on",
    }
    data.update(values)
    return {f"{prefix}-{key}": value for key, value in data.items() if value is not None}


def test_adding_a_target_puts_it_and_makes_a_revision(client: Client, rule: Rule) -> None:
    from routing.handlers import register_handler

    register_handler("tests.dashboard.noop")(_noop)
    response = client.post(reverse("dashboard-rules:target-add", args=[rule.pk]), target_data(
        input_mode="input_transformer", input_path="$.detail",  # left over, not the chosen mode
        input_transformer=json.dumps({"InputPathsMap": {"n": "$.detail.n"},
                                      "InputTemplate": '{"number": <n>}'}),
        max_retry_attempts="3", dead_letter_enabled=None,
    ))
    assert response.status_code == 302
    assert response["Location"].endswith("/targets/#target-audit")
    target = Target.objects.get(rule=rule, target_id="audit", deleted_at__isnull=True)
    assert (target.input_path, target.input_transformer, target.max_retry_attempts,
            target.dead_letter_enabled) == (
        "", {"InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": '{"number": <n>}'}, 3, False)
    rule.refresh_from_db()
    assert rule.revision == 2
    assert rule.revisions.get(number=2).change == "targets set: audit"


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"address": "no.such.handler"}, "address", "no.such.handler"),
    ({"kind": "webhook", "address": "ftp://x"}, "address",
     "A webhook target needs an http:// or https:// URL."),
    ({"input_mode": "input_path", "input_path": ""}, "input_path",
     "Give the JSON path of what the target receives, e.g. $.detail."),
    ({"input_mode": "input_path", "input_path": "$..x"}, "input_path", "$..x"),
    ({"max_event_age_seconds": "5"}, "max_event_age_seconds", "60"),
])
def test_a_bad_target_is_an_error_on_its_field_and_nothing_is_saved(
    client: Client, rule: Rule, values: dict[str, str], field: str, message: str
) -> None:
    from routing.handlers import register_handler

    register_handler("tests.dashboard.noop")(_noop)
    response = client.post(reverse("dashboard-rules:target-add", args=[rule.pk]),
                           target_data(**values))
    assert response.status_code == 400
    errors = response.context["new_form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert message in text_of(response)
    assert not Target.objects.filter(rule=rule).exists()


def test_a_new_target_cannot_take_an_existing_id(client: Client, rule: Rule) -> None:
    add_recorder_target(rule, "audit")
    response = client.post(reverse("dashboard-rules:target-add", args=[rule.pk]),
                           target_data(max_retry_attempts="1"))
    assert response.status_code == 400
    assert response.context["new_form"].errors["target_id"] == [
        "Target audit already exists on this rule: edit it instead."]
    assert Target.objects.get(rule=rule).max_retry_attempts == 185


def test_editing_a_target_replaces_it_and_removing_it_retires_it(
    client: Client, rule: Rule
) -> None:
    add_recorder_target(rule, "audit")
    url = reverse("dashboard-rules:target-edit", args=[rule.pk, "audit"])
    page = client.get(reverse("dashboard-rules:targets", args=[rule.pk]))
    assert "tests.dashboard.noop" in text_of(page)
    unchanged = client.post(url, target_data("t-audit"), follow=True)
    assert "Target audit: nothing changed." in text_of(unchanged)
    client.post(url, target_data("t-audit", input_mode="input_path", input_path="$.detail",
                                 target_id="renamed"))
    live = Target.objects.get(rule=rule, deleted_at__isnull=True)
    assert (live.target_id, live.input_path) == ("audit", "$.detail")  # the id is fixed
    assert Target.objects.filter(rule=rule).count() == 2  # the old row is kept, retired

    response = client.post(reverse("dashboard-rules:target-remove", args=[rule.pk, "audit"]),
                           follow=True)
    assert "Target audit removed." in text_of(response)
    assert not Target.objects.filter(rule=rule, deleted_at__isnull=True).exists()
    rule.refresh_from_db()
    assert rule.revisions.get(number=rule.revision).change == "targets removed: audit"


# History, diffs and restore -------------------------------------------------------------------

@pytest.fixture
def edited_rule(rule: Rule, staff: Any) -> Rule:
    """r1 CURRENT (system), r2 PROPOSED + description (ops), r3 a target added."""
    rule_put(bus_name=BUS, name=rule.name, event_pattern=PROPOSED, description="Five to 19",
             actor=Actor.for_user(staff))
    from routing.handlers import register_handler

    register_handler("tests.dashboard.noop")(_noop)
    targets_put(rule=rule, actor=Actor.for_user(staff), targets=[TargetSpec(
        target_id="audit", kind="handler", address="tests.dashboard.noop",
        target_input=TargetInput(input_transformer=InputTransformer(
            input_template="<n>", input_paths_map={"n": "$.detail.n"})),
    )])
    rule.refresh_from_db()
    return rule


def test_history_lists_every_revision_with_who_when_and_what(
    client: Client, edited_rule: Rule
) -> None:
    response = client.get(reverse("dashboard-rules:history", args=[edited_rule.pk]))
    page = text_of(response)
    rows = re.findall(r'<tr data-revision="(\d+)"[^>]*>(.*?)</tr>', page)
    assert [number for number, _ in rows] == ["3", "2", "1"]
    r3, r2, r1 = (row for _, row in rows)
    assert "targets set: audit" in r3
    assert "ops" in r3
    assert "current" in r3
    assert "Restore" not in r3  # restoring the current revision would change nothing
    assert "changed pattern, description" in r2
    assert "Restore" in r2
    assert "created" in r1
    assert "system:test" not in r1
    assert "test" in r1


def test_a_revision_diff_shows_pattern_lines_settings_and_targets(
    client: Client, edited_rule: Rule
) -> None:
    url = reverse("dashboard-rules:revision", args=[edited_rule.pk, 1])
    diff = client.get(url + "?against=current").context["diff"]
    assert (diff.old.number, diff.new.number) == (1, 3)
    removed = [line.text.strip() for line in diff.pattern_lines if line.kind == "removed"]
    added = [line.text.strip() for line in diff.pattern_lines if line.kind == "added"]
    assert removed == ["0,", "10"]
    assert added == ["5,", "20"]
    assert diff.description.old == "Numbers below ten"
    assert diff.description.new == "Five to 19"
    assert diff.state is None
    (target_change,) = diff.targets
    assert (target_change.target_id, target_change.kind) == ("audit", "added")
    assert {c.name for c in target_change.changes} >= {
        "Address", "InputTransformer.InputTemplate", "InputTransformer.InputPathsMap.n"}

    page = text_of(client.get(url + "?against=current"))
    assert "Revision 1 → revision 3 (current)" in page
    previous = client.get(reverse("dashboard-rules:revision", args=[edited_rule.pk, 3])
                          + "?against=previous").context["diff"]
    assert (previous.old.number, previous.new.number, previous.pattern_changed) == (2, 3, False)
    assert [t.kind for t in previous.targets] == ["added"]
    first = client.get(url + "?against=previous").context["diff"]
    assert first.old is None
    assert first.state.new == "ENABLED"
    assert client.get(url + "?against=9").status_code == 404
    assert client.get(url + "?against=sideways").status_code == 404


def test_restore_brings_back_an_old_revision_as_a_new_one(
    client: Client, edited_rule: Rule, staff: Any
) -> None:
    url = reverse("dashboard-rules:revision-restore", args=[edited_rule.pk, 1])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "Restored revision 1: the rule is now at revision 4." in text_of(response)
    edited_rule.refresh_from_db()
    assert (edited_rule.event_pattern, edited_rule.description, edited_rule.revision) == (
        CURRENT, "Numbers below ten", 4)
    revision = edited_rule.revisions.get(number=4)
    assert (revision.change, revision.changed_by) == ("restored revision 1", staff)
    assert [t["Id"] for t in revision.targets] == ["audit"]  # targets are kept

    missing = client.post(reverse("dashboard-rules:revision-restore",
                                  args=[edited_rule.pk, 42]), follow=True)
    assert "Rule Numbers has no revision 42." in text_of(missing)
    edited_rule.refresh_from_db()
    assert edited_rule.revision == 4


def test_the_bus_page_shows_its_tags_dead_letters_and_quotas(
    client: Client, rule: Rule, settings: Any
) -> None:
    settings.ROUTING_MAX_RULES_PER_BUS = 7
    settings.ROUTING_PUT_EVENTS_PER_SECOND = 25
    settings.ROUTING_PUT_EVENTS_BURST = 50
    bus = rule.bus
    bus.tags = {"team": "bar", "cost": "ops"}
    bus.dead_letter_enabled = True
    bus.save(update_fields=["tags", "dead_letter_enabled"])
    Rule.objects.filter(pk=rule.pk).update(tags={"owner": "kitchen"})

    page = text_of(client.get(reverse("dashboard-rules:list") + f"?bus={BUS}"))

    tags = re.search(r'<ul class="tag-list" aria-label="Tags of [^"]+">(.*?)</ul>', page).group(1)
    assert re.findall(r">([^<]+)</li>", tags) == ["cost=ops", "team=bar"]
    assert "kept for every target" in page
    assert re.search(r'data-quota="rules-per-bus">1 of 7 rules<', page)
    assert re.search(r'data-quota="targets-per-rule">at most 5 targets per rule<', page)
    assert re.search(r'data-quota="pattern-characters">event patterns of up to 2048 characters<',
                     page)
    assert "25 requests per second for each caller (bursts of 50)" in page
    editor = text_of(client.get(reverse("dashboard-rules:edit", args=[rule.pk])))
    assert re.search(r'aria-label="Tags of Numbers"><li class="pill mono">owner=kitchen</li>',
                     editor)
