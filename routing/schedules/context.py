"""EventBridge Scheduler's context attributes: placeholders in a schedule's Input that each
firing replaces with its own values. Pure Python, no Django.

`<aws.scheduler.attempt-number>` is the one left as written: a firing's Input is fixed when the
tick is claimed, before any attempt is made (docs/schedules.md).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from routing.timestamps import utc_timestamp

SCHEDULE_ARN = "<aws.scheduler.schedule-arn>"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
EXECUTION_ID = "<aws.scheduler.execution-id>"

# Values of the same shape as a firing's, to check an Input reads as JSON once replaced.
_SAMPLE = {SCHEDULE_ARN: "arn:aws:scheduler:us-east-1:000000000000:schedule/default/sample",
           SCHEDULED_TIME: "2000-01-01T00:00:00Z",
           EXECUTION_ID: "00000000-0000-0000-0000-000000000000"}


def substitute(text: str, *, schedule_arn: str, scheduled_time: datetime,
               execution_id: str) -> str:
    values = {SCHEDULE_ARN: schedule_arn,
              SCHEDULED_TIME: utc_timestamp(scheduled_time, timespec="seconds"),
              EXECUTION_ID: execution_id}
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def parsed_input(text: str, *, schedule_arn: str, scheduled_time: datetime,
                 execution_id: str) -> Any:
    """The Input as JSON, its context attributes replaced; ValueError if it is not JSON."""
    return json.loads(substitute(text, schedule_arn=schedule_arn, scheduled_time=scheduled_time,
                                 execution_id=execution_id))


def sample_input(text: str) -> Any:
    """The Input as a firing would parse it; ValueError if it is not JSON then."""
    for placeholder, value in _SAMPLE.items():
        text = text.replace(placeholder, value)
    return json.loads(text)
