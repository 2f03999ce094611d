"""A schedule's Target as the Scheduler API spells it, read into the bus's terms. The Arn forms
are the bus's own (routing.aws.arns): a webhook URL, a handler, or a bus — EventBridge's PutEvents
target, with EventBridgeParameters."""

from __future__ import annotations

from routing.aws.arns import DEAD_LETTER_ARN, target_from_arn
from routing.aws.params import Params
from routing.errors import ValidationError
from routing.schedules.targets import ScheduleTarget

DEFAULT_MAX_RETRY_ATTEMPTS = 185
DEFAULT_MAX_EVENT_AGE_SECONDS = 86400
UNSUPPORTED_TARGET_MEMBERS = (
    "EcsParameters", "KinesisParameters", "SageMakerPipelineParameters", "SqsParameters",
    "EventBridgePutEventsV2Parameters", "EventBridgePutRawEventsParameters",
)


def target_from_aws(target: Params) -> ScheduleTarget:
    arn = target.required_string("Arn")
    # RoleArn is required by AWS and kept, but there is no IAM here: the bus acts as itself.
    role_arn = target.required_string("RoleArn")
    target.refuse(*UNSUPPORTED_TARGET_MEMBERS,
                  why="a schedule targets a webhook, a handler or an event bus.")
    try:
        kind, address = target_from_arn(arn)
    except ValidationError as error:
        raise ValidationError(error.message, field="Target.Arn") from None
    input_text = target.string("Input")
    if input_text == "":
        raise ValidationError("Target.Input must not be empty: leave it out instead.",
                              field="Target.Input")
    retry = target.structure("RetryPolicy") or Params({}, "Target.RetryPolicy")
    attempts = retry.integer("MaximumRetryAttempts", minimum=0, maximum=185)
    age = retry.integer("MaximumEventAgeInSeconds", minimum=60, maximum=86400)
    dead_letter = target.structure("DeadLetterConfig")
    dead_letter_arn = dead_letter.string("Arn") if dead_letter is not None else None
    if dead_letter_arn is not None and dead_letter_arn != DEAD_LETTER_ARN:
        raise ValidationError(
            f"DeadLetterConfig.Arn must be {DEAD_LETTER_ARN}, the bus's own dead-letter store "
            "(redrivable from the admin and the HTTP API); SQS queues are not supported.",
            field="Target.DeadLetterConfig.Arn")
    bridge = target.structure("EventBridgeParameters")
    return ScheduleTarget(
        arn=arn, role_arn=role_arn, kind=kind, address=address, input=input_text,
        max_retry_attempts=DEFAULT_MAX_RETRY_ATTEMPTS if attempts is None else attempts,
        max_event_age_seconds=DEFAULT_MAX_EVENT_AGE_SECONDS if age is None else age,
        dead_letter_arn=dead_letter_arn,
        event_source=bridge.required_string("Source") if bridge is not None else None,
        event_detail_type=bridge.required_string("DetailType") if bridge is not None else None,
    )
