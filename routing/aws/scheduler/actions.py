"""One function per Scheduler action: read the request (path, query string, JSON body), call the
schedules' services, answer in the Scheduler's output shape. `ROUTES` maps (method, resource) to
the action. Every rule lives in routing.schedules.scheduler; these only translate."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from routing.aws.actions.common import tags_param
from routing.aws.auth import AwsCaller
from routing.aws.params import Params, decode_next_token, encode_next_token
from routing.aws.scheduler import shapes
from routing.aws.scheduler.targets import target_from_aws
from routing.errors import ValidationError
from routing.schedules.group_tags import group_tag, group_tags_of, group_untag
from routing.schedules.models import (
    DEFAULT_GROUP_NAME,
    AfterCompletion,
    FlexibleMode,
    ScheduleState,
)
from routing.schedules.scheduler import (
    ScheduleSpec,
    group_create,
    group_delete,
    group_get,
    schedule_create,
    schedule_delete,
    schedule_get,
    schedule_update,
)
from routing.schedules.selectors import groups_page, schedules_page
from routing.schedules.targets import Creator
from routing.services.rules import Actor

Output = dict[str, Any]
NO_KMS = "inputs are stored by the bus's own database, not encrypted with a KMS key."
MAX_RESULTS = 100


@dataclass(frozen=True)
class SchedulerRequest:
    name: str | None  # the {Name} of the path, if the resource has one
    query: Mapping[str, str]
    body: Params
    caller: AwsCaller
    # Every value of each query member (UntagResource repeats TagKeys).
    query_lists: Mapping[str, list[str]] = field(default_factory=dict)

    @property
    def creator(self) -> Creator:
        return Creator(actor=Actor.for_caller(self.caller.label, bus_names=self.caller.bus_names),
                       publisher=self.caller.publisher, allowed_sources=self.caller.sources)

    @property
    def path_name(self) -> str:
        assert self.name is not None
        return self.name

    def max_results(self) -> int:
        raw = self.query.get("MaxResults")
        if raw is None:
            return MAX_RESULTS
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_RESULTS:
            raise ValidationError(
                f"1 validation error detected: Value '{raw[:20]}' at 'maxResults' failed to "
                f"satisfy constraint: Member must have value between 1 and {MAX_RESULTS}",
                field="MaxResults")
        return int(raw)

    def query_params(self) -> Params:
        return Params(dict(self.query))


Action = Callable[[SchedulerRequest], Output]


def _page_output(key: str, items: list[Any], action: str, next_after: str | None) -> Output:
    output: Output = {key: items}
    if next_after is not None:
        output["NextToken"] = encode_next_token(action, next_after)
    return output


def _enum(params: Params, name: str, values: list[str], default: str) -> str:
    value = params.string(name)
    if value is None:
        return default
    if value not in values:
        raise ValidationError(
            f"1 validation error detected: Value '{value[:40]}' at '{name[:1].lower()}{name[1:]}' "
            f"failed to satisfy constraint: Member must satisfy enum value set: "
            f"[{', '.join(values)}]", field=name)
    return value


def _spec(request: SchedulerRequest) -> ScheduleSpec:
    body = request.body
    body.refuse("KmsKeyArn", why=NO_KMS)
    window = body.required_structure("FlexibleTimeWindow")
    return ScheduleSpec(
        name=request.path_name,
        group_name=body.string("GroupName") or DEFAULT_GROUP_NAME,
        expression=body.required_string("ScheduleExpression"),
        target=target_from_aws(body.required_structure("Target")),
        timezone=body.string("ScheduleExpressionTimezone") or "UTC",
        start_date=body.timestamp("StartDate"),
        end_date=body.timestamp("EndDate"),
        description=body.string("Description") or "",
        state=_enum(body, "State", ScheduleState.values, ScheduleState.ENABLED),
        flexible_mode=_enum(window, "Mode", FlexibleMode.values, window.required_string("Mode")),
        window_minutes=window.integer("MaximumWindowInMinutes", minimum=1, maximum=1440),
        action_after_completion=_enum(body, "ActionAfterCompletion", AfterCompletion.values,
                                      AfterCompletion.NONE),
    )


# Schedules ---------------------------------------------------------------------------------

def create_schedule(request: SchedulerRequest) -> Output:
    schedule = schedule_create(spec=_spec(request), creator=request.creator,
                               client_token=request.body.string("ClientToken") or "")
    return {"ScheduleArn": schedule.arn}


def update_schedule(request: SchedulerRequest) -> Output:
    schedule = schedule_update(spec=_spec(request), creator=request.creator)
    return {"ScheduleArn": schedule.arn}


def get_schedule(request: SchedulerRequest) -> Output:
    schedule = schedule_get(name=request.path_name, group_name=request.query.get("groupName"),
                            actor=request.creator.actor)
    return shapes.schedule_shape(schedule)


def delete_schedule(request: SchedulerRequest) -> Output:
    schedule_delete(name=request.path_name, group_name=request.query.get("groupName"),
                    creator=request.creator)
    return {}


def list_schedules(request: SchedulerRequest) -> Output:
    query = request.query_params()
    group_name = query.string("ScheduleGroup")
    state = query.string("State")
    if state is not None:
        _enum(query, "State", ScheduleState.values, ScheduleState.ENABLED)
    page = schedules_page(
        actor=request.creator.actor,
        group=group_get(group_name) if group_name else None,
        prefix=query.string("NamePrefix"), state=state,
        after=decode_next_token(query, "ListSchedules"), limit=request.max_results())
    return _page_output("Schedules", [shapes.schedule_summary_shape(s) for s in page.items],
                        "ListSchedules", page.next_after)


# Groups ------------------------------------------------------------------------------------

def create_schedule_group(request: SchedulerRequest) -> Output:
    group = group_create(name=request.path_name, tags=tags_param(request.body))
    return {"ScheduleGroupArn": group.arn}


def get_schedule_group(request: SchedulerRequest) -> Output:
    return shapes.group_shape(group_get(request.path_name))


def delete_schedule_group(request: SchedulerRequest) -> Output:
    group_delete(name=request.path_name, creator=request.creator)
    return {}


def list_schedule_groups(request: SchedulerRequest) -> Output:
    query = request.query_params()
    page = groups_page(prefix=query.string("NamePrefix"),
                       after=decode_next_token(query, "ListScheduleGroups"),
                       limit=request.max_results())
    return _page_output("ScheduleGroups", [shapes.group_shape(g) for g in page.items],
                        "ListScheduleGroups", page.next_after)


# Tags: on schedule groups, as the Scheduler keeps them (the path's {Name} is the ARN).

def list_tags_for_resource(request: SchedulerRequest) -> Output:
    tags = group_tags_of(arn=request.path_name)
    return {"Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())]}


def tag_resource(request: SchedulerRequest) -> Output:
    request.body.structures("Tags", required=True)
    group_tag(arn=request.path_name, tags=tags_param(request.body))
    return {}


def untag_resource(request: SchedulerRequest) -> Output:
    keys = request.query_lists.get("TagKeys", [])
    if not keys:
        raise ValidationError("1 validation error detected: Value null at 'tagKeys' failed to "
                              "satisfy constraint: Member must not be null", field="TagKeys")
    group_untag(arn=request.path_name, keys=keys)
    return {}


# (method, resource) -> action; the resource is the first path segment after the endpoint.
ROUTES: dict[tuple[str, str, bool], Action] = {
    ("POST", "schedules", True): create_schedule,
    ("GET", "schedules", True): get_schedule,
    ("PUT", "schedules", True): update_schedule,
    ("DELETE", "schedules", True): delete_schedule,
    ("GET", "schedules", False): list_schedules,
    ("POST", "schedule-groups", True): create_schedule_group,
    ("GET", "schedule-groups", True): get_schedule_group,
    ("DELETE", "schedule-groups", True): delete_schedule_group,
    ("GET", "schedule-groups", False): list_schedule_groups,
    ("GET", "tags", True): list_tags_for_resource,
    ("POST", "tags", True): tag_resource,
    ("DELETE", "tags", True): untag_resource,
}
