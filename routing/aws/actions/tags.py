"""The EventBridge actions on tags: TagResource, UntagResource, ListTagsForResource, for buses,
rules and archives by ARN."""

from __future__ import annotations

from routing.aws.actions.common import Output, actor_of, tags_param
from routing.aws.auth import AwsCaller
from routing.aws.params import Params
from routing.services import resource_tag, resource_untag, tags_of

MAX_ARN_LENGTH = 1600


def _arn(params: Params) -> str:
    params.bounded_string("ResourceARN", max_length=MAX_ARN_LENGTH)
    return params.required_string("ResourceARN")


def tag_resource(params: Params, caller: AwsCaller) -> Output:
    arn = _arn(params)
    params.structures("Tags", required=True)
    resource_tag(arn=arn, tags=tags_param(params), actor=actor_of(caller))
    return {}


def untag_resource(params: Params, caller: AwsCaller) -> Output:
    arn = _arn(params)
    keys = params.string_list("TagKeys", required=True) or []
    resource_untag(arn=arn, keys=keys, actor=actor_of(caller))
    return {}


def list_tags_for_resource(params: Params, caller: AwsCaller) -> Output:
    tags = tags_of(arn=_arn(params), actor=actor_of(caller))
    return {"Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())]}
