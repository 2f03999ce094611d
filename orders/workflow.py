"""The order workflow as pure logic: states, who may move an order from which state to which,
and what the workflow then waits for. No Django here.

              start                      submit             claim
    NEW ───────────────▶ WAITING_FOR_DRINK ──────▶ QUEUED ─────────▶ IN_PRODUCTION
     │                                               │   ◀─────────      │
     │ refuse (closed | busy)                        │    unclaim        │
     ▼                                      complete │                   │ complete
  SHOP_UNAVAILABLE                                   ▼                   │
                                                 COMPLETED ◀─────────────┘

    time-out: NEW, WAITING_FOR_DRINK, QUEUED, IN_PRODUCTION ──▶ TIMED_OUT (with its cause)
    cancel:   WAITING_FOR_DRINK, QUEUED (customer or barista), IN_PRODUCTION (barista)
              ──▶ CANCELLED

Each wait has a deadline; the services keep a single-use token for it, so only the step that
holds the current token can resume the workflow (a late time-out or a repeated request finds
it already used).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from routing.errors import ApplicationError


class OrderState(StrEnum):
    NEW = "NEW"
    SHOP_UNAVAILABLE = "SHOP_UNAVAILABLE"
    WAITING_FOR_DRINK = "WAITING_FOR_DRINK"
    QUEUED = "QUEUED"
    IN_PRODUCTION = "IN_PRODUCTION"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(state.value, state.label) for state in cls]


_STATE_LABELS = {
    OrderState.NEW: "Starting",
    OrderState.SHOP_UNAVAILABLE: "Shop unavailable",
    OrderState.WAITING_FOR_DRINK: "Choosing a drink",
    OrderState.QUEUED: "In the queue",
    OrderState.IN_PRODUCTION: "Being made",
    OrderState.COMPLETED: "Ready for pickup",
    OrderState.CANCELLED: "Cancelled",
    OrderState.TIMED_OUT: "Timed out",
}

FINAL_STATES = frozenset(
    {OrderState.SHOP_UNAVAILABLE, OrderState.COMPLETED, OrderState.CANCELLED,
     OrderState.TIMED_OUT}
)
# Orders the baristas have to deal with: these count against the shop's queue capacity.
BARISTA_QUEUE_STATES = frozenset({OrderState.QUEUED, OrderState.IN_PRODUCTION})


class WaitKind(StrEnum):
    CUSTOMER = "customer"
    BARISTA = "barista"

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(kind.value, kind.value.capitalize()) for kind in cls]


class TimeoutCause(StrEnum):
    # The reference's exact wording, which its consumers match on.
    CUSTOMER = "Customer timedout"
    BARISTA = "Barista timedout"
    # Ours: the workflow never started (no worker picked up Validator.NewOrder in time).
    WORKFLOW = "Workflow timedout"

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(cause.value, cause.value) for cause in cls]


# What a customer may give as the reason for cancelling (it is published with the event).
CUSTOMER_CANCEL_REASONS = ("Changed my mind", "Taking too long", "Ordered the wrong drink")


class CancelledBy(StrEnum):
    CUSTOMER = "customer"
    BARISTA = "barista"

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(who.value, who.value.capitalize()) for who in cls]


class UnavailableReason(StrEnum):
    CLOSED = "closed"
    BUSY = "busy"


class Actor(StrEnum):
    SYSTEM = "system"
    CUSTOMER = "customer"  # the customer who owns the order
    BARISTA = "barista"


class Action(StrEnum):
    START = "start"
    REFUSE = "refuse"
    SUBMIT = "submit"
    CLAIM = "claim"
    UNCLAIM = "unclaim"
    COMPLETE = "complete"
    CANCEL = "cancel"
    TIME_OUT = "time_out"


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[OrderState]
    target: OrderState
    actors: frozenset[Actor]
    # What the workflow waits for afterwards (None: nothing; the wait ends).
    then_waits_for: WaitKind | None
    # Whether the order's current wait token must be presented (and is used up).
    resumes_wait: WaitKind | None


def _t(action: Action, sources: set[OrderState], target: OrderState, actors: set[Actor],
       then_waits_for: WaitKind | None, resumes_wait: WaitKind | None) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(actors), then_waits_for,
                      resumes_wait)


S = OrderState
TRANSITIONS: dict[Action, Transition] = {
    t.action: t for t in (
        _t(Action.START, {S.NEW}, S.WAITING_FOR_DRINK, {Actor.SYSTEM}, WaitKind.CUSTOMER, None),
        _t(Action.REFUSE, {S.NEW}, S.SHOP_UNAVAILABLE, {Actor.SYSTEM}, None, None),
        _t(Action.SUBMIT, {S.WAITING_FOR_DRINK}, S.QUEUED, {Actor.CUSTOMER}, WaitKind.BARISTA,
           WaitKind.CUSTOMER),
        _t(Action.CLAIM, {S.QUEUED}, S.IN_PRODUCTION, {Actor.BARISTA}, WaitKind.BARISTA, None),
        _t(Action.UNCLAIM, {S.IN_PRODUCTION}, S.QUEUED, {Actor.BARISTA}, WaitKind.BARISTA, None),
        _t(Action.COMPLETE, {S.QUEUED, S.IN_PRODUCTION}, S.COMPLETED, {Actor.BARISTA}, None,
           WaitKind.BARISTA),
        # Who may cancel from where is refined below (customers only while the order waits).
        _t(Action.CANCEL, {S.WAITING_FOR_DRINK, S.QUEUED, S.IN_PRODUCTION}, S.CANCELLED,
           {Actor.CUSTOMER, Actor.BARISTA}, None, None),
        # NEW included: an order whose workflow never started must not stay open for ever.
        _t(Action.TIME_OUT, {S.NEW, S.WAITING_FOR_DRINK, S.QUEUED, S.IN_PRODUCTION},
           S.TIMED_OUT, {Actor.SYSTEM}, None, None),
    )
}

# A customer may cancel while the order still waits (for them, or for a barista to start it);
# once a barista is making it, only a barista can.
CUSTOMER_CANCELLABLE = frozenset({OrderState.WAITING_FOR_DRINK, OrderState.QUEUED})
# States with a deadline: the time-out sweeper looks at these.
OPEN_STATES = TRANSITIONS[Action.TIME_OUT].sources


class OrderError(ApplicationError):
    """The one error a person can cause in the shop (the project's application error): a clear
    `message` to show as it is, a stable `code`, the offending `field` where there is one, the
    HTTP status to answer with, and optional `details` for the page (e.g. {"retryAt": ...})."""

    STATUS_BY_CODE: ClassVar[dict[str, int]] = {
        "forbidden": 403, "not_found": 404, "invalid_state": 409, "stale_token": 409,
        "sign_in_required": 401,
    }

    def __init__(
        self,
        message: str,
        code: str,
        field: str | None = None,
        http_status: int | None = None,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, field=field, http_status=http_status,
                         details=details)


class TransitionRefused(Exception):
    """The move is not allowed; `message` says why in words a person understands."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# "... so you cannot <phrase>."
_ACTION_PHRASES = {
    Action.START: "start it", Action.REFUSE: "turn it away",
    Action.SUBMIT: "choose a drink for it", Action.CLAIM: "start making it",
    Action.UNCLAIM: "hand it back", Action.COMPLETE: "complete it", Action.CANCEL: "cancel it",
    Action.TIME_OUT: "time it out",
}
# "Only <actors> can <phrase> an order."
_ACTION_VERBS = {
    Action.START: "start", Action.REFUSE: "turn away", Action.SUBMIT: "choose the drink of",
    Action.CLAIM: "start making", Action.UNCLAIM: "hand back", Action.COMPLETE: "complete",
    Action.CANCEL: "cancel", Action.TIME_OUT: "time out",
}
# "This order <phrase>, ..."
_STATE_PHRASES = {
    OrderState.NEW: "is still starting",
    OrderState.SHOP_UNAVAILABLE: "was not taken (the shop was unavailable)",
    OrderState.WAITING_FOR_DRINK: "is still waiting for its drink to be chosen",
    OrderState.QUEUED: "is already in the queue",
    OrderState.IN_PRODUCTION: "is already being made",
    OrderState.COMPLETED: "is already ready for pickup",
    OrderState.CANCELLED: "has been cancelled",
    OrderState.TIMED_OUT: "has timed out",
}
_ACTOR_PLURALS = {Actor.SYSTEM: "the shop itself", Actor.CUSTOMER: "the customer who ordered it",
                  Actor.BARISTA: "baristas"}


def describe_state(state: OrderState) -> str:
    """How a sentence about an order in this state goes on: "This order <is already ...>"."""
    return _STATE_PHRASES[state]


def check_transition(state: OrderState, action: Action, actor: Actor) -> Transition:
    """The transition to apply, or TransitionRefused explaining why not.

    Codes: "forbidden" (this kind of actor may never do it), "invalid_state" (not now)."""
    transition = TRANSITIONS[action]
    if actor not in transition.actors:
        who = " or ".join(_ACTOR_PLURALS[a] for a in sorted(transition.actors))
        raise TransitionRefused(f"Only {who} can {_ACTION_VERBS[action]} an order.",
                                code="forbidden")
    if state not in transition.sources:
        raise TransitionRefused(
            f"This order {_STATE_PHRASES[state]}, so you cannot {_ACTION_PHRASES[action]}.",
            code="invalid_state",
        )
    if action == Action.CANCEL and actor == Actor.CUSTOMER and state not in CUSTOMER_CANCELLABLE:
        raise TransitionRefused(
            "A barista is already making this order, so it can no longer be cancelled here. "
            "Please speak to the barista.",
            code="invalid_state",
        )
    return transition


def timeout_cause_for(state: OrderState) -> TimeoutCause:
    """Whose wait ran out, given the state the order timed out in."""
    if state == OrderState.NEW:
        return TimeoutCause.WORKFLOW
    if state == OrderState.WAITING_FOR_DRINK:
        return TimeoutCause.CUSTOMER
    return TimeoutCause.BARISTA


@dataclass(frozen=True)
class MenuGroup:
    name: str
    options: tuple[str, ...]
    multiple: bool
    required: bool


@dataclass(frozen=True)
class MenuDrink:
    name: str
    available: bool
    groups: tuple[MenuGroup, ...]


class InvalidDrinkChoice(Exception):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def validate_drink_choice(
    drink: MenuDrink | None, choices: dict[str, list[str]]
) -> list[dict[str, str]]:
    """Checks a choice against the menu; returns the modifiers to store, in menu order.

    `choices` maps a modifier group's name to the chosen option names."""
    if drink is None:
        raise InvalidDrinkChoice("That drink is not on the menu.", field="drink")
    if not drink.available:
        raise InvalidDrinkChoice(f"Sorry, {drink.name} is not available right now.",
                                 field="drink")
    groups = {group.name: group for group in drink.groups}
    unknown = [name for name in choices if name not in groups]
    if unknown:
        raise InvalidDrinkChoice(f"{drink.name} has no {unknown[0]!r} options.", field=unknown[0])
    modifiers: list[dict[str, str]] = []
    for group in drink.groups:
        chosen = list(dict.fromkeys(choices.get(group.name, [])))
        bad = [option for option in chosen if option not in group.options]
        if bad:
            raise InvalidDrinkChoice(f"{bad[0]!r} is not a {group.name} option for {drink.name}.",
                                     field=group.name)
        if group.required and not chosen:
            raise InvalidDrinkChoice(f"Please choose a {group.name} option.", field=group.name)
        if not group.multiple and len(chosen) > 1:
            raise InvalidDrinkChoice(f"Please choose only one {group.name} option.",
                                     field=group.name)
        modifiers += [{"group": group.name, "option": option}
                      for option in group.options if option in chosen]
    return modifiers
