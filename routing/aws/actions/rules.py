"""The EventBridge actions on rules: Put, Describe, List, Enable, Disable and DeleteRule, and
ListRuleNamesByTarget."""

from __future__ import annotations

from routing.aws import selectors, shapes
from routing.aws.actions.common import (
    Output,
    actor_of,
    bus_name_param,
    live_rule,
    managed_rule_errors,
    page_output,
    tags_param,
)
from routing.aws.arns import target_from_arn
from routing.aws.auth import AwsCaller
from routing.aws.params import NAME_PATTERN, Params, decode_next_token
from routing.errors import NotFound, ValidationError
from routing.models import RuleState
from routing.services import (
    bus_get,
    rule_delete,
    rule_put,
    rule_set_state,
)


def put_rule_action(params: Params, caller: AwsCaller) -> Output:
    name = params.name("Name", pattern=NAME_PATTERN, max_length=64)
    assert name is not None
    tags = tags_param(params)
    bus_name = bus_name_param(params)
    caller.require_bus(bus_name)
    # RoleArn is accepted and ignored: there is no IAM here, the bus delivers as itself.
    rule = rule_put(
        bus_name=bus_name,
        name=name,
        tags=tags,
        event_pattern=params.string("EventPattern"),
        schedule_expression=params.string("ScheduleExpression") or "",
        state=params.string("State") or RuleState.ENABLED,
        description=params.string("Description") or "",
        actor=actor_of(caller),
    )
    return {"RuleArn": rule.arn}


def describe_rule(params: Params, caller: AwsCaller) -> Output:
    return shapes.rule_detail_shape(live_rule(params, caller))


def list_rules(params: Params, caller: AwsCaller) -> Output:
    bus_name = bus_name_param(params)
    caller.require_bus(bus_name)
    page = selectors.rules_page(bus=bus_get(bus_name), prefix=params.string("NamePrefix"),
                                after=decode_next_token(params, "ListRules"),
                                limit=params.limit())
    return page_output("Rules", [shapes.rule_shape(rule) for rule in page.items],
                        "ListRules", page.next_after)


def _set_state(params: Params, caller: AwsCaller, state: str) -> Output:
    rule = live_rule(params, caller)
    with managed_rule_errors(rule):
        rule_set_state(rule=rule, state=state, actor=actor_of(caller))
    return None


def enable_rule(params: Params, caller: AwsCaller) -> Output:
    return _set_state(params, caller, RuleState.ENABLED)


def disable_rule(params: Params, caller: AwsCaller) -> Output:
    return _set_state(params, caller, RuleState.DISABLED)


def delete_rule(params: Params, caller: AwsCaller) -> Output:
    try:
        rule = live_rule(params, caller)
    except NotFound:
        # As at AWS: deleting a rule that is not there succeeds (on a bus that is).
        bus_get(bus_name_param(params))
        return None
    with managed_rule_errors(rule):
        rule_delete(rule=rule, force=bool(params.boolean("Force")), actor=actor_of(caller))
    return None


def list_rule_names_by_target(params: Params, caller: AwsCaller) -> Output:
    bus_name = bus_name_param(params)
    caller.require_bus(bus_name)
    bus = bus_get(bus_name)
    after = decode_next_token(params, "ListRuleNamesByTarget")
    limit = params.limit()
    try:
        kind, address = target_from_arn(params.required_string("TargetArn"))
    except ValidationError:
        # No rule can have a target this bus cannot deliver to.
        return {"RuleNames": []}
    page = selectors.rule_names_by_target_page(bus=bus, kind=kind, address=address,
                                               after=after, limit=limit)
    return page_output("RuleNames", page.items, "ListRuleNamesByTarget", page.next_after)
