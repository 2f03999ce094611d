"""What a target receives: EventBridge's Input, InputPath and InputTransformer, in pure Python,
and the Channels group names rendered from events. One module per concern:

- `definitions`: the API model's limits, the predefined variables, InvalidTargetInputError;
- `jsonpath`: the JSON-path subset EventBridge documents (`parse_json_path`);
- `target_input`: `TargetInput` and `InputTransformer`, read from and written as EventBridge's,
  and `validate_target_input`;
- `templates`: an InputTemplate split into text and placeholders, each tagged with where it stands;
- `validation`: PutTargets' checks of each field, with EventBridge's wording;
- `rendering`: `render_target_input`, the exact text a target receives;
- `group_names`: `validate_group_template` and `format_group_name`.

    >>> from routing.transform.rendering import render_target_input
    >>> from routing.transform.target_input import TargetInput
    >>> target_input = TargetInput.from_aws({
    ...     "InputTransformer": {
    ...         "InputPathsMap": {"id": "$.detail.id"},
    ...         "InputTemplate": '{"order": <id>, "text": "Order <id> is ready"}',
    ...     }
    ... })
    >>> target_input.validate()
    >>> render_target_input(
    ...     {"detail": {"id": "A7"}}, target_input,
    ...     rule_arn="arn:aws:events:eu-west-1:123456789012:rule/ready", rule_name="ready",
    ...     ingestion_time="2026-01-01T00:00:00Z",
    ... )
    '{"order":"A7","text":"Order A7 is ready"}'

The package imports nothing from Django, so the API layer, the workers and the tests can all use
it. docs/transform.md describes the semantics and the choices made where AWS documents nothing.
"""
