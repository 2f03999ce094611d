"""The pure workflow: every transition, every refusal, and the drink validator. No database."""

from __future__ import annotations

import itertools

import pytest

from orders.workflow import (
    BARISTA_QUEUE_STATES,
    CUSTOMER_CANCELLABLE,
    FINAL_STATES,
    OPEN_STATES,
    TRANSITIONS,
    Action,
    Actor,
    InvalidDrinkChoice,
    MenuDrink,
    MenuGroup,
    OrderError,
    OrderState,
    TimeoutCause,
    TransitionRefused,
    WaitKind,
    check_transition,
    describe_state,
    timeout_cause_for,
    validate_drink_choice,
)

S = OrderState

# The whole table, written out once more by hand: (action, from, to, who).
EXPECTED = {
    (Action.START, S.NEW, S.WAITING_FOR_DRINK, Actor.SYSTEM),
    (Action.REFUSE, S.NEW, S.SHOP_UNAVAILABLE, Actor.SYSTEM),
    (Action.SUBMIT, S.WAITING_FOR_DRINK, S.QUEUED, Actor.CUSTOMER),
    (Action.CLAIM, S.QUEUED, S.IN_PRODUCTION, Actor.BARISTA),
    (Action.UNCLAIM, S.IN_PRODUCTION, S.QUEUED, Actor.BARISTA),
    (Action.COMPLETE, S.QUEUED, S.COMPLETED, Actor.BARISTA),
    (Action.COMPLETE, S.IN_PRODUCTION, S.COMPLETED, Actor.BARISTA),
    (Action.CANCEL, S.WAITING_FOR_DRINK, S.CANCELLED, Actor.CUSTOMER),
    (Action.CANCEL, S.QUEUED, S.CANCELLED, Actor.CUSTOMER),
    (Action.CANCEL, S.WAITING_FOR_DRINK, S.CANCELLED, Actor.BARISTA),
    (Action.CANCEL, S.QUEUED, S.CANCELLED, Actor.BARISTA),
    (Action.CANCEL, S.IN_PRODUCTION, S.CANCELLED, Actor.BARISTA),
    (Action.TIME_OUT, S.NEW, S.TIMED_OUT, Actor.SYSTEM),
    (Action.TIME_OUT, S.WAITING_FOR_DRINK, S.TIMED_OUT, Actor.SYSTEM),
    (Action.TIME_OUT, S.QUEUED, S.TIMED_OUT, Actor.SYSTEM),
    (Action.TIME_OUT, S.IN_PRODUCTION, S.TIMED_OUT, Actor.SYSTEM),
}


@pytest.mark.parametrize(("action", "source", "target", "actor"), sorted(EXPECTED))
def test_every_allowed_transition(action: Action, source: S, target: S, actor: Actor) -> None:
    assert check_transition(source, action, actor).target == target


@pytest.mark.parametrize(
    ("state", "action", "actor"), list(itertools.product(S, Action, Actor))
)
def test_everything_else_is_refused_with_a_reason(state: S, action: Action, actor: Actor) -> None:
    allowed = {(a, s, who) for a, s, _, who in EXPECTED}
    if (action, state, actor) in allowed:
        check_transition(state, action, actor)
        return
    with pytest.raises(TransitionRefused) as refused:
        check_transition(state, action, actor)
    if actor not in TRANSITIONS[action].actors:
        assert refused.value.code == "forbidden"
        assert refused.value.message.startswith("Only ")
    else:
        assert refused.value.code == "invalid_state"
        assert refused.value.message.endswith(".")


def test_refusals_say_what_is_wrong_in_words() -> None:
    with pytest.raises(TransitionRefused, match="has timed out, so you cannot choose a drink"):
        check_transition(S.TIMED_OUT, Action.SUBMIT, Actor.CUSTOMER)
    with pytest.raises(TransitionRefused, match="already in the queue, so you cannot choose"):
        check_transition(S.QUEUED, Action.SUBMIT, Actor.CUSTOMER)
    with pytest.raises(TransitionRefused, match="Only baristas can start making an order"):
        check_transition(S.QUEUED, Action.CLAIM, Actor.CUSTOMER)
    with pytest.raises(TransitionRefused, match="Only baristas or the customer who ordered it"):
        check_transition(S.QUEUED, Action.CANCEL, Actor.SYSTEM)
    with pytest.raises(TransitionRefused, match="already making this order") as refused:
        check_transition(S.IN_PRODUCTION, Action.CANCEL, Actor.CUSTOMER)
    assert refused.value.code == "invalid_state"


def test_what_each_step_waits_for() -> None:
    assert TRANSITIONS[Action.START].then_waits_for == WaitKind.CUSTOMER
    assert TRANSITIONS[Action.SUBMIT].then_waits_for == WaitKind.BARISTA
    assert TRANSITIONS[Action.SUBMIT].resumes_wait == WaitKind.CUSTOMER
    assert TRANSITIONS[Action.CLAIM].then_waits_for == WaitKind.BARISTA
    assert TRANSITIONS[Action.UNCLAIM].then_waits_for == WaitKind.BARISTA
    for ending in (Action.REFUSE, Action.COMPLETE, Action.CANCEL, Action.TIME_OUT):
        assert TRANSITIONS[ending].then_waits_for is None
        assert TRANSITIONS[ending].target in FINAL_STATES


def test_final_states_are_final_and_every_state_is_reachable() -> None:
    for transition in TRANSITIONS.values():
        assert not transition.sources & FINAL_STATES
    reachable, frontier = {S.NEW}, [S.NEW]
    while frontier:
        state = frontier.pop()
        for transition in TRANSITIONS.values():
            if state in transition.sources and transition.target not in reachable:
                reachable.add(transition.target)
                frontier.append(transition.target)
    assert reachable == set(S)
    assert set(S) - FINAL_STATES == OPEN_STATES
    assert BARISTA_QUEUE_STATES < OPEN_STATES
    assert {S.WAITING_FOR_DRINK, S.QUEUED} == CUSTOMER_CANCELLABLE


def test_timeout_cause_names_whose_wait_ran_out() -> None:
    assert timeout_cause_for(S.WAITING_FOR_DRINK) == TimeoutCause.CUSTOMER == "Customer timedout"
    assert timeout_cause_for(S.QUEUED) == TimeoutCause.BARISTA == "Barista timedout"
    assert timeout_cause_for(S.IN_PRODUCTION) == TimeoutCause.BARISTA
    assert timeout_cause_for(S.NEW) == TimeoutCause.WORKFLOW


def test_every_state_has_a_label_and_a_phrase() -> None:
    for state in S:
        assert state.label
        assert describe_state(state)
    assert dict(S.choices())["IN_PRODUCTION"] == "Being made"


def test_order_error_speaks_http_and_json() -> None:
    error = OrderError("Not yours.", "forbidden")
    assert error.http_status == 403
    assert error.as_dict() == {"code": "forbidden", "message": "Not yours."}
    assert OrderError("x", "invalid_state").http_status == 409
    assert OrderError("x", "stale_token").http_status == 409
    assert OrderError("x", "not_found").http_status == 404
    assert OrderError("x", "invalid_drink", field="Milk").http_status == 400
    assert OrderError("x", "daily_limit", http_status=429).http_status == 429
    limited = OrderError("Later.", "daily_limit", details={"retryAt": "2026-01-01T00:00:00Z"})
    assert limited.as_dict() == {"code": "daily_limit", "message": "Later.",
                                 "details": {"retryAt": "2026-01-01T00:00:00Z"}}
    assert OrderError("Pick one.", "invalid_drink", "Milk").as_dict()["field"] == "Milk"


# The drink validator ---------------------------------------------------------------------------

MILK = MenuGroup("Milk", ("Regular", "Oat", "Almond"), multiple=False, required=True)
EXTRAS = MenuGroup("Extras", ("Vanilla", "Caramel", "Extra shot"), multiple=True, required=False)
SIZE = MenuGroup("Size", ("Small", "Large"), multiple=False, required=False)
LATTE = MenuDrink("Latte", available=True, groups=(MILK, EXTRAS, SIZE))


def refusal(drink: MenuDrink | None, choices: dict[str, list[str]]) -> InvalidDrinkChoice:
    with pytest.raises(InvalidDrinkChoice) as refused:
        validate_drink_choice(drink, choices)
    return refused.value


def test_a_valid_choice_comes_back_in_menu_order_without_repeats() -> None:
    modifiers = validate_drink_choice(
        LATTE, {"Extras": ["Extra shot", "Vanilla", "Vanilla"], "Milk": ["Oat"]}
    )
    assert modifiers == [
        {"group": "Milk", "option": "Oat"},
        {"group": "Extras", "option": "Vanilla"},
        {"group": "Extras", "option": "Extra shot"},
    ]
    assert validate_drink_choice(MenuDrink("Espresso", True, ()), {}) == []
    assert validate_drink_choice(LATTE, {"Milk": ["Regular"], "Extras": []}) == [
        {"group": "Milk", "option": "Regular"}
    ]


def test_a_drink_not_on_the_menu() -> None:
    error = refusal(None, {})
    assert (error.field, error.message) == ("drink", "That drink is not on the menu.")


def test_an_unavailable_drink() -> None:
    error = refusal(MenuDrink("Cappuccino", available=False, groups=()), {})
    assert error.field == "drink"
    assert "Cappuccino is not available" in error.message


def test_a_missing_required_choice() -> None:
    error = refusal(LATTE, {"Extras": ["Vanilla"]})
    assert (error.field, error.message) == ("Milk", "Please choose a Milk option.")


def test_two_choices_in_a_single_choice_group() -> None:
    error = refusal(LATTE, {"Milk": ["Oat", "Almond"]})
    assert (error.field, error.message) == ("Milk", "Please choose only one Milk option.")


def test_an_unknown_option() -> None:
    error = refusal(LATTE, {"Milk": ["Goat"]})
    assert error.field == "Milk"
    assert error.message == "'Goat' is not a Milk option for Latte."


def test_an_unknown_group() -> None:
    error = refusal(LATTE, {"Milk": ["Oat"], "Sprinkles": ["Yes"]})
    assert error.field == "Sprinkles"
    assert "Latte has no 'Sprinkles' options" in error.message
