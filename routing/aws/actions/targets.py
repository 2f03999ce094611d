"""The EventBridge actions PutTargets, RemoveTargets, ListTargetsByRule."""

from __future__ import annotations

from typing import Any

from routing.aws import selectors, shapes
from routing.aws.actions.common import (
    MAX_TARGET_IDS_PER_CALL,
    MAX_TARGETS_PER_CALL,
    Output,
    actor_of,
    live_rule,
    managed_rule_errors,
    page_output,
)
from routing.aws.arns import target_spec_from_aws, target_to_aws
from routing.aws.auth import AwsCaller
from routing.aws.params import NAME_PATTERN, Params, decode_next_token
from routing.errors import RoutingError, ValidationError
from routing.services import (
    TargetSpec,
    targets_put,
    targets_remove,
)
from routing.services.rules import TargetFailure
from routing.transform.definitions import InvalidTargetInputError
from routing.transform.target_input import TargetInput

MAX_TARGET_ID_LENGTH = 64
MAX_RETRY_ATTEMPTS = 185
MIN_EVENT_AGE_SECONDS = 60
MAX_EVENT_AGE_SECONDS = 86400
MAX_ROLE_ARN_LENGTH = 1600


def _failed_entries(failures: list[TargetFailure]) -> dict[str, Any]:
    # A target that came without an Id fails with none (the shape's TargetId is 1+ characters).
    return {"FailedEntryCount": len(failures),
            "FailedEntries": [shapes.compact(failure.as_aws()) for failure in failures]}


def _refuse_invalid_target(entry: Params) -> None:
    """What EventBridge refuses for the whole call (ValidationException): a target that breaks
    the service model (its Id, RetryPolicy ranges, RoleArn) or EventBridge's input rules (one
    of Input, InputPath, InputTransformer; placeholders the paths map defines)."""
    target_id = entry.name("Id", pattern=NAME_PATTERN, max_length=MAX_TARGET_ID_LENGTH)
    retry = entry.structure("RetryPolicy")
    if retry is not None:
        retry.integer("MaximumRetryAttempts", minimum=0, maximum=MAX_RETRY_ATTEMPTS)
        retry.integer("MaximumEventAgeInSeconds", minimum=MIN_EVENT_AGE_SECONDS,
                      maximum=MAX_EVENT_AGE_SECONDS)
    entry.bounded_string("RoleArn", max_length=MAX_ROLE_ARN_LENGTH)
    try:
        TargetInput.from_aws(entry.data).validate(target_id=target_id)
    except InvalidTargetInputError as error:
        raise ValidationError(str(error), field=error.field) from None


def put_targets(params: Params, caller: AwsCaller) -> Output:
    rule = live_rule(params, caller, "Rule")
    entries = params.structures("Targets", required=True, max_items=MAX_TARGETS_PER_CALL) or []
    for entry in entries:
        _refuse_invalid_target(entry)
    # Beyond that each target stands or falls alone, as in the services: one this bus cannot
    # deliver to fails with its own error, and the others are still put.
    failures: dict[int, TargetFailure] = {}
    specs: list[tuple[int, TargetSpec]] = []
    for position, entry in enumerate(entries):
        target_id = entry.raw("Id") if isinstance(entry.raw("Id"), str) else ""
        try:
            spec = target_spec_from_aws(entry)
        except RoutingError as error:
            failures[position] = TargetFailure(target_id, error.code, error.message)
            continue
        specs.append((position, spec))
    if specs:
        with managed_rule_errors(rule):
            refused_by_bus = targets_put(rule=rule, targets=[spec for _, spec in specs],
                                         actor=actor_of(caller))
        # The services report failures in request order, by Id (which a request may repeat).
        remaining = list(refused_by_bus)
        for position, spec in specs:
            match = next((failure for failure in remaining
                          if failure.target_id == spec.target_id), None)
            if match is not None:
                remaining.remove(match)
                failures[position] = match
    return _failed_entries([failures[position] for position in sorted(failures)])


def remove_targets(params: Params, caller: AwsCaller) -> Output:
    rule = live_rule(params, caller, "Rule")
    ids = params.string_list("Ids", required=True, max_items=MAX_TARGET_IDS_PER_CALL) or []
    # Force only matters for rules other AWS services manage; such rules are refused here.
    params.boolean("Force")
    with managed_rule_errors(rule):
        failures = targets_remove(rule=rule, target_ids=ids, actor=actor_of(caller))
    return _failed_entries(failures)


def list_targets_by_rule(params: Params, caller: AwsCaller) -> Output:
    rule = live_rule(params, caller, "Rule")
    page = selectors.targets_page(rule=rule, after=decode_next_token(params, "ListTargetsByRule"),
                                  limit=params.limit())
    return page_output("Targets", [target_to_aws(target) for target in page.items],
                        "ListTargetsByRule", page.next_after)
