"""What every action module shares: reading the bus and rule an action names, the caller as an
Actor, pages with their NextToken, and ManagedRuleException."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from routing.aws.auth import AwsCaller
from routing.aws.errors import ManagedRule
from routing.aws.params import Params, encode_next_token
from routing.errors import ValidationError
from routing.models import DEFAULT_BUS_NAME, Rule
from routing.services import (
    Actor,
    rule_get,
)
from routing.services.publish import bus_name_from_reference

Output = dict[str, Any] | None
Action = Callable[[Params, AwsCaller], Output]

# EventBridge's documented cap on one PutTargets call (its public model says 100).
MAX_TARGETS_PER_CALL = 10
MAX_TARGET_IDS_PER_CALL = 100
NO_KMS = "events are stored by the bus's own database, not encrypted with a KMS key."


def actor_of(caller: AwsCaller) -> Actor:
    return Actor.for_caller(caller.label, bus_names=caller.bus_names)


def bus_name_param(params: Params, member: str = "EventBusName") -> str:
    reference = params.string(member)
    return bus_name_from_reference(reference) if reference else DEFAULT_BUS_NAME


def page_output(items_key: str, items: list[Any], action: str, next_after: str | None
                 ) -> dict[str, Any]:
    output: dict[str, Any] = {items_key: items}
    if next_after is not None:
        output["NextToken"] = encode_next_token(action, next_after)
    return output


@contextmanager
def managed_rule_errors(rule: Rule) -> Iterator[None]:
    """The services refuse changes to a rule a system feature manages with a ValidationError;
    EventBridge names that ManagedRuleException."""
    try:
        yield
    except ValidationError as error:
        if rule.managed_by:
            raise ManagedRule(error.message, field=error.field) from None
        raise


def live_rule(params: Params, caller: AwsCaller, member: str = "Name") -> Rule:
    bus_name = bus_name_param(params)
    caller.require_bus(bus_name)
    return rule_get(bus_name=bus_name, name=params.required_string(member))


def tags_param(params: Params, member: str = "Tags") -> dict[str, str]:
    """A TagList ([{"Key": …, "Value": …}]) as a dict; the limits are the services'."""
    tags: dict[str, str] = {}
    for tag in params.structures(member) or []:
        key = tag.required_string("Key")
        value = tag.string("Value", required=True)
        assert value is not None
        tag.bounded_string("Key", max_length=128)
        tag.bounded_string("Value", max_length=256)
        tags[key] = value
    return tags
