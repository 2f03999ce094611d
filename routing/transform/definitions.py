"""EventBridge's definitions of a target's input: the API model's limits, the predefined
variables a template may use, and the error raised for an input PutTargets would refuse."""

from __future__ import annotations

# Limits from the EventBridge API model (botocore events/2015-10-07: TargetInput,
# TargetInputPath, TransformerInput, TransformerPaths, InputTransformerPathKey).
MAX_INPUT_LENGTH = 8192
MAX_INPUT_PATH_LENGTH = 256
MAX_INPUT_TEMPLATE_LENGTH = 8192
MAX_INPUT_PATHS = 100
MAX_PATHS_MAP_KEY_LENGTH = 256
PATHS_MAP_KEY_PATTERN = r"[A-Za-z0-9\_\-]+"

RULE_ARN = "aws.events.rule-arn"
RULE_NAME = "aws.events.rule-name"
INGESTION_TIME = "aws.events.event.ingestion-time"
EVENT = "aws.events.event"
EVENT_JSON = "aws.events.event.json"

#: The predefined variables; an InputPathsMap cannot define them.
RESERVED_VARIABLES = frozenset({RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON})
#: Predefined variables whose contents are JSON and are not escaped: AWS allows them only as the
#: value of a JSON field.
JSON_ONLY_VARIABLES = frozenset({EVENT, EVENT_JSON})


class InvalidTargetInputError(ValueError):
    """A target's Input, InputPath or InputTransformer is not one EventBridge would accept.

    `field` names the offending field in EventBridge's spelling, e.g. ``InputPath`` or
    ``InputTransformer.InputTemplate``."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field
