"""The EventBridge actions PutEvents and TestEventPattern."""

from __future__ import annotations

from routing.aws.actions.common import (
    Output,
)
from routing.aws.auth import AwsCaller
from routing.aws.params import Params
from routing.errors import ValidationError
from routing.patterns.errors import EVENT_ERROR_MESSAGE
from routing.services import (
    put_events,
)
from routing.services.patterns import pattern_test as service_pattern_test


def put_events_action(params: Params, caller: AwsCaller) -> Output:
    params.refuse("EndpointId", why="there are no global endpoints; send to the bus itself.")
    entries = params.items("Entries", required=True)
    allowed = caller.bus_names
    result = put_events(entries, publisher=caller.publisher, allowed_sources=caller.sources,
                        allowed_bus_names=None if allowed is None else set(allowed))
    return result.as_aws()


def pattern_test(params: Params, caller: AwsCaller) -> Output:
    try:
        result = service_pattern_test(event_pattern=params.required_string("EventPattern"),
                                      event=params.required_string("Event"))
    except ValidationError as error:
        if error.field != "Event":
            raise
        # AWS's own words, which clients match on; the REST API adds the reason.
        raise ValidationError(EVENT_ERROR_MESSAGE, field="Event") from None
    return {"Result": result}
