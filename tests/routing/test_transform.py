"""routing.transform: what a target receives (Input, InputPath, InputTransformer) and Channels
group names. Pure unit tests: no database, no Django.

Expected outputs come from AWS's user guide and API reference examples, and from LocalStack's
snapshot tests recorded against AWS (tests/aws/services/events/test_events_inputs.snapshot.json);
each emulator bug listed in the reference research has a regression test."""

from __future__ import annotations

import copy
import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.transform.definitions import (
    JSON_ONLY_VARIABLES,
    RESERVED_VARIABLES,
    InvalidTargetInputError,
)
from routing.transform.group_names import GroupNameError, format_group_name, validate_group_template
from routing.transform.jsonpath import InvalidJsonPathError, parse_json_path
from routing.transform.rendering import render_target_input
from routing.transform.target_input import InputTransformer, TargetInput, validate_target_input

RULE_ARN = "arn:aws:events:us-east-2:123456789012:rule/example"
RULE_NAME = "example"
INGESTION_TIME = "2015-11-11T21:29:55Z"

# The Amazon EC2 event of the user guide's "Input transform examples".
EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
EC2_PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}

# LocalStack's TEST_EVENT_PATTERN / EVENT_DETAIL, as used in its AWS-validated input tests.
LS_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "b8a7fe8c-2a39-4f4a-9b69-6e0a1d1d2f4e",
    "detail-type": "core.update-account-command",
    "source": "core.update-account-command",
    "account": "111111111111",
    "time": "2024-06-11T08:33:01Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}},
}
LS_PATHS = {"detail-type": "$.detail-type", "timestamp": "$.time", "command": "$.detail.command"}


def render(event: dict[str, Any], target_input: TargetInput) -> str:
    return render_target_input(
        event, target_input, rule_arn=RULE_ARN, rule_name=RULE_NAME, ingestion_time=INGESTION_TIME
    )


def transform(
    template: str, paths: dict[str, str] | None = None, event: dict[str, Any] | None = None
) -> str:
    target_input = TargetInput(
        input_transformer=InputTransformer(input_template=template, input_paths_map=paths or {})
    )
    return render(EC2_EVENT if event is None else event, target_input)


def invalid(target_input: TargetInput, target_id: str | None = None) -> InvalidTargetInputError:
    with pytest.raises(InvalidTargetInputError) as caught:
        validate_target_input(target_input, target_id=target_id)
    return caught.value


def transformer(template: str, paths: dict[str, str] | None = None) -> TargetInput:
    return TargetInput(input_transformer=InputTransformer(template, paths or {}))


# AWS user guide: "Input transform examples" (eb-transform-target-input) ------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param(
            '"instance <instance> is in <state>"',
            '"instance i-0123456789 is in RUNNING"',
            id="simple-string",
        ),
        pytest.param(
            '"instance \\"<instance>\\" is in <state>"',
            '"instance \\"i-0123456789\\" is in RUNNING"',
            id="string-with-escaped-quotes",
        ),
        pytest.param(
            '{\n  "instance" : <instance>,\n  "state": <state>\n}',
            '{"instance":"i-0123456789","state":"RUNNING"}',
            id="simple-json",
        ),
        pytest.param(
            '{\n "instance" : <instance>,\n "state": "<state>",\n'
            ' "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}',
            '{"instance":"i-0123456789","state":"RUNNING",'
            '"instanceStatus":"instance \\"i-0123456789\\" is in RUNNING"}',
            id="json-with-strings-and-variables",
        ),
        pytest.param(
            '{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n'
            '  "Transformed" : "Yes"\n}',
            '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}',
            id="json-with-a-mix-of-variables-and-static-information",
        ),
        pytest.param(
            '"<aws.events.rule-name> triggered"',
            '"example triggered"',
            id="reserved-variables-in-a-string",
        ),
    ],
)
def test_user_guide_examples(template: str, expected: str) -> None:
    assert transform(template, EC2_PATHS) == expected


def test_user_guide_reserved_variables_in_json() -> None:
    template = (
        '{\n  "instance" : <instance>,\n  "state": <state>,\n  "ruleArn" : <aws.events.rule-arn>,'
        '\n  "ruleName" : <aws.events.rule-name>,\n  "originalEvent" : <aws.events.event>\n}'
    )
    body = json.loads(transform(template, EC2_PATHS))
    assert body["instance"] == "i-0123456789"
    assert body["state"] == "RUNNING"
    assert body["ruleArn"] == RULE_ARN
    assert body["ruleName"] == "example"
    assert body["originalEvent"]["id"] == EC2_EVENT["id"]
    assert "detail" not in body["originalEvent"]


# AWS API reference: InputTransformer.InputTemplate examples -----------------------------------


def test_api_reference_plain_text_template() -> None:
    paths = {"instance": "$.detail.instance", "status": "$.detail.status"}
    event = {"detail": {"instance": "i-1", "status": "running"}}
    assert transform("<instance> is in state <status>", paths, event) == "i-1 is in state running"
    assert (
        transform('<instance> is in state "<status>"', paths, event) == 'i-1 is in state "running"'
    )


def test_api_reference_json_template_with_variables_in_quotes_or_out() -> None:
    paths = {"instance": "$.detail.instance", "status": "$.detail.status"}
    event = {"detail": {"instance": "i-1", "status": "running"}}
    template = '{"myInstance": <instance>,"myStatus": "<instance> is in state \\"<status>\\""}'
    rendered = transform(template, paths, event)
    assert rendered == '{"myInstance":"i-1","myStatus":"i-1 is in state \\"running\\""}'
    assert json.loads(rendered) == {"myInstance": "i-1", "myStatus": 'i-1 is in state "running"'}


# LocalStack's snapshot tests recorded against AWS ----------------------------------------------


def test_aws_validated_input_path_detail() -> None:
    rendered = render(LS_EVENT, TargetInput(input_path="$.detail"))
    assert json.loads(rendered) == LS_EVENT["detail"]


def test_aws_validated_input_path_nested_and_duplicated_key() -> None:
    assert json.loads(render(LS_EVENT, TargetInput(input_path="$.detail.payload"))) == {
        "acc_id": "0a787ecb-4015",
        "sf_id": "baz",
    }
    duplicated = copy.deepcopy(LS_EVENT)
    duplicated["detail"] = {
        "command": "update-account",
        "payload": {"acc_id": "0a787ecb-4015", "payload": {"message": "baz", "id": "123"}},
    }
    assert json.loads(render(duplicated, TargetInput(input_path="$.detail.payload"))) == {
        "acc_id": "0a787ecb-4015",
        "payload": {"message": "baz", "id": "123"},
    }


def test_aws_validated_input_path_to_a_string_is_a_json_string() -> None:
    assert render(LS_EVENT, TargetInput(input_path="$.detail.payload.sf_id")) == '"baz"'


def test_aws_validated_input_path_applies_to_its_target_only() -> None:
    # Also the regression test for LocalStack #3353 (InputPath applied to every target).
    event = copy.deepcopy(LS_EVENT)
    with_path = render(event, TargetInput(input_path="$.detail"))
    without = render(event, TargetInput())
    assert json.loads(with_path) == LS_EVENT["detail"]
    assert json.loads(without) == LS_EVENT
    assert event == LS_EVENT


@pytest.mark.parametrize(
    ("command_path", "expected"),
    [
        pytest.param(
            "$.detail.command",
            '"Event of core.update-account-command type, at time 2024-06-11T08:33:01Z, info '
            'extracted from detail update-account"',
            id="match-all",
        ),
        pytest.param(
            "$.detail.notinmessage",
            '"Event of core.update-account-command type, at time 2024-06-11T08:33:01Z, info '
            'extracted from detail "',
            id="missing-variable-is-empty",
        ),
    ],
)
def test_aws_validated_string_template(command_path: str, expected: str) -> None:
    template = (
        '"Event of <detail-type> type, at time <timestamp>, info extracted from detail <command>"'
    )
    paths = {**LS_PATHS, "command": command_path}
    assert transform(template, paths, LS_EVENT) == expected


def test_aws_validated_string_template_with_special_starting_characters() -> None:
    template = '"{[/Check with special starting characters for event of <detail-type> type"'
    assert (
        transform(template, LS_PATHS, LS_EVENT)
        == '"{[/Check with special starting characters for event of core.update-account-command'
        ' type"'
    )


def test_aws_validated_json_template_and_missing_variable_in_value_position() -> None:
    template = '{"detailType": <detail-type>,  "time": <timestamp>, "command": <command>}'
    assert json.loads(transform(template, LS_PATHS, LS_EVENT)) == {
        "detailType": "core.update-account-command",
        "time": "2024-06-11T08:33:01Z",
        "command": "update-account",
    }
    missing = {**LS_PATHS, "command": "$.detail.notinmessage"}
    assert (
        transform(template, missing, LS_EVENT)
        == '{"detailType":"core.update-account-command","time":"2024-06-11T08:33:01Z",'
        '"command":""}'
    )


def test_aws_validated_undefined_placeholder_is_rejected() -> None:
    target_input = transformer(
        '"Event of <detail-type> type, with not defined key <notdefinedkey>"', LS_PATHS
    )
    error = invalid(target_input, target_id="target-1")
    assert str(error) == (
        "InputTemplate for target target-1 contains invalid placeholder notdefinedkey."
    )
    assert error.field == "InputTransformer.InputTemplate"


def test_aws_validated_predefined_variables_in_a_string() -> None:
    template = (
        '"Message containing all pre defined variables <aws.events.rule-arn> '
        '<aws.events.rule-name> <aws.events.event.ingestion-time>"'
    )
    assert (
        transform(template, None, LS_EVENT)
        == f'"Message containing all pre defined variables {RULE_ARN} {RULE_NAME} '
        f'{INGESTION_TIME}"'
    )


def test_aws_validated_predefined_event_variables_in_json() -> None:
    template = '{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}'
    body = json.loads(transform(template, None, LS_EVENT))
    # AWS writes <aws.events.event> without `detail`, with `detail-type` spelt `detailType`, in
    # this order.
    assert list(body["originalEvent"].items()) == [
        ("id", LS_EVENT["id"]),
        ("account", "111111111111"),
        ("detailType", "core.update-account-command"),
        ("time", "2024-06-11T08:33:01Z"),
        ("source", "core.update-account-command"),
        ("region", "us-east-1"),
        ("resources", []),
        ("version", "0"),
    ]
    assert body["originalEventJson"] == LS_EVENT


def test_aws_validated_only_one_input_kind() -> None:
    target_input = TargetInput(
        input_path="$.detail",
        input_transformer=InputTransformer('{"detailType": <detail-type>}', LS_PATHS),
    )
    error = invalid(target_input, target_id="target-1")
    assert str(error) == (
        "Only one of Input, InputPath, or InputTransformer must be provided for target target-1."
    )
    with pytest.raises(InvalidTargetInputError, match="Only one of"):
        render(LS_EVENT, TargetInput(input='{"a": 1}', input_path="$.detail"))


# Regression tests for the emulator bugs in the reference research, section 4 item 3 -----------


def test_localstack_10287_json_object_value() -> None:
    rendered = transform('{"body": <detail>}', {"detail": "$.detail"}, LS_EVENT)
    assert json.loads(rendered) == {"body": LS_EVENT["detail"]}


def test_localstack_11126_variable_inside_a_string_of_a_json_template() -> None:
    template = (
        '{\n  "method" : "PUT",\n  "path" : "users-service/users/<userId>",\n  "body": <body>\n}\n'
    )
    event = {"detail": {"id": "123456789", "name": "Ann"}}
    rendered = transform(template, {"userId": "$.detail.id", "body": "$.detail"}, event)
    assert json.loads(rendered) == {
        "method": "PUT",
        "path": "users-service/users/123456789",
        "body": {"id": "123456789", "name": "Ann"},
    }


def test_localstack_12195_quotes_are_kept() -> None:
    event = {"detail": {"object": {"key": "test-key"}}}
    assert (
        transform('{"Key":<objectKey>}', {"objectKey": "$.detail.object.key"}, event)
        == '{"Key":"test-key"}'
    )
    assert render(event, TargetInput(input='{"Key":"test-key"}')) == '{"Key":"test-key"}'


def test_floci_1885_and_ministack_1507_unquoted_string_variable_is_quoted() -> None:
    event = {"detail": {"eventName": "site.created", "pk": "RECORD#123", "n": 2}}
    assert (
        transform('{"eventName":<eventName>}', {"eventName": "$.detail.eventName"}, event)
        == '{"eventName":"site.created"}'
    )
    rendered = transform(
        '{"detail": <detail>, "groupId": <groupId>}',
        {"detail": "$.detail", "groupId": "$.detail.pk"},
        event,
    )
    assert rendered == (
        '{"detail":{"eventName":"site.created","pk":"RECORD#123","n":2},"groupId":"RECORD#123"}'
    )


def test_auto_quoting_does_not_double_quote_a_quoted_placeholder() -> None:
    event = {"detail": {"eventName": "site.created"}}
    assert (
        transform('{"eventName":"<eventName>"}', {"eventName": "$.detail.eventName"}, event)
        == '{"eventName":"site.created"}'
    )


@pytest.mark.parametrize(
    "template",
    [
        '"<aws.events.rule-arn> <aws.events.rule-name> <aws.events.event.ingestion-time>"',
        '{"a": <aws.events.rule-arn>, "b": "<aws.events.rule-name>", '
        '"c": <aws.events.event.ingestion-time>, "d": <aws.events.event>, '
        '"e": <aws.events.event.json>}',
    ],
)
def test_cloudemu_543_reserved_variables_are_substituted(template: str) -> None:
    rendered = transform(template)
    assert "<aws." not in rendered
    assert RULE_ARN in rendered
    assert RULE_NAME in rendered
    assert INGESTION_TIME in rendered


def test_moto_unquoted_string_and_rule_name_do_not_break_the_json() -> None:
    rendered = transform('{"name": <aws.events.rule-name>, "state": <state>}', EC2_PATHS)
    assert json.loads(rendered) == {"name": "example", "state": "RUNNING"}


def test_moto_whole_event_keeps_every_envelope_field() -> None:
    assert json.loads(render(EC2_EVENT, TargetInput())) == EC2_EVENT


def test_localstack_3060_input_path_is_honoured() -> None:
    assert render(EC2_EVENT, TargetInput(input_path="$.detail.state")) == '"RUNNING"'


def test_rendering_never_modifies_the_event() -> None:
    event = copy.deepcopy(EC2_EVENT)
    transform('{"e": <aws.events.event>, "j": <aws.events.event.json>}', None, event)
    render(event, TargetInput(input_path="$.detail"))
    assert event == EC2_EVENT


# Input, InputPath and no input -----------------------------------------------------------------


def test_no_input_sends_the_whole_event_as_compact_json() -> None:
    event = {"source": "café", "detail": {"n": 1.5, "ok": True, "none": None}}
    assert render(event, TargetInput()) == (
        '{"source":"café","detail":{"n":1.5,"ok":true,"none":null}}'
    )


def test_input_is_sent_unchanged() -> None:
    text = '{ "static" : [1, 2,\n 3] }'
    assert render(EC2_EVENT, TargetInput(input=text)) == text
    assert render(EC2_EVENT, TargetInput(input='"just a string"')) == '"just a string"'


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", EC2_EVENT),
        ("$.detail", EC2_EVENT["detail"]),
        ("$.detail-type", "EC2 Instance State-change Notification"),
        ("$.resources[0]", EC2_EVENT["resources"][0]),
        ("$.resources[-1]", EC2_EVENT["resources"][0]),
        ("$['detail-type']", "EC2 Instance State-change Notification"),
        ('$["detail"]["instance-id"]', "i-0123456789"),
        ("$.detail.*", ["i-0123456789", "RUNNING"]),
    ],
)
def test_input_path_selects_the_value(path: str, expected: Any) -> None:
    assert json.loads(render(EC2_EVENT, TargetInput(input_path=path))) == expected


def test_input_path_with_a_wildcard_over_an_array() -> None:
    event = {"detail": {"items": [{"name": "latte"}, {"size": "L"}, {"name": "mocha"}]}}
    rendered = render(event, TargetInput(input_path="$.detail.items[*].name"))
    assert rendered == '["latte","mocha"]'


@pytest.mark.parametrize(
    "path", ["$.detail.missing", "$.resources[5]", "$.detail.state.deeper", "$.resources.x"]
)
def test_input_path_that_selects_nothing_sends_null(path: str) -> None:
    assert render(EC2_EVENT, TargetInput(input_path=path)) == "null"


# InputTransformer semantics beyond the documented examples ---------------------------------------


VALUES_EVENT: dict[str, Any] = {
    "detail": {
        "s": "latte",
        "i": 42,
        "f": 4.5,
        "t": True,
        "n": None,
        "o": {"a": 1, "b": "x"},
        "l": [1, "two"],
        "quote": 'say "hi"',
        "utf": "crème brûlée",
    }
}
VALUE_PATHS = {name: f"$.detail.{name}" for name in VALUES_EVENT["detail"]}


@pytest.mark.parametrize(
    ("name", "in_value", "in_string"),
    [
        ("s", '"latte"', "latte"),
        ("i", "42", "42"),
        ("f", "4.5", "4.5"),
        ("t", "true", "true"),
        ("n", "null", "null"),
        ("o", '{"a":1,"b":"x"}', '{"a":1,"b":"x"}'),
        ("l", '[1,"two"]', '[1,"two"]'),
        ("utf", '"crème brûlée"', "crème brûlée"),
        ("absent", '""', ""),
    ],
)
def test_each_json_type_in_value_string_and_text_position(
    name: str, in_value: str, in_string: str
) -> None:
    paths = {**VALUE_PATHS, "absent": "$.detail.absent"}
    assert transform(f'{{"v": <{name}>}}', paths, VALUES_EVENT) == f'{{"v":{in_value}}}'
    assert transform(f"value: <{name}>!", paths, VALUES_EVENT) == f"value: {in_string}!"
    if '"' not in in_string:
        assert transform(f'{{"v": "[<{name}>]"}}', paths, VALUES_EVENT) == (
            f'{{"v":"[{in_string}]"}}'
        )


def test_value_in_a_json_string_is_not_escaped_and_the_result_is_sent_as_is() -> None:
    # AWS: "EventBridge doesn't escape values extracted by Input Path".
    template = '{ "text": "<quote>" }'
    assert transform(template, VALUE_PATHS, VALUES_EVENT) == '{ "text": "say "hi"" }'


def test_string_in_value_position_is_a_proper_json_string() -> None:
    rendered = transform('{"text": <quote>}', VALUE_PATHS, VALUES_EVENT)
    assert json.loads(rendered) == {"text": 'say "hi"'}


def test_template_escapes_and_whitespace_inside_strings_are_kept() -> None:
    template = '{\n  "a": "line one\\nline two  <s>",\n  "b" : [ <i> , "x  y" ]\n}'
    rendered = transform(template, VALUE_PATHS, VALUES_EVENT)
    assert rendered == '{"a":"line one\\nline two  latte","b":[42,"x  y"]}'


def test_top_level_array_template_is_json_and_bracketed_text_is_text() -> None:
    assert transform("[<s>, <i>]", VALUE_PATHS, VALUES_EVENT) == '["latte",42]'
    assert transform("[WARN] <s> sold out", VALUE_PATHS, VALUES_EVENT) == "[WARN] latte sold out"


def test_text_template_without_placeholders_is_unchanged() -> None:
    assert transform("Hello, barista") == "Hello, barista"
    assert transform('"Hello, barista"') == '"Hello, barista"'


def test_predefined_variables_only_is_allowed_without_paths_map() -> None:
    target_input = TargetInput.from_aws(
        {"InputTransformer": {"InputTemplate": '{"rule": <aws.events.rule-name>}'}}
    )
    target_input.validate()
    assert render(EC2_EVENT, target_input) == '{"rule":"example"}'


def test_event_variable_keeps_extra_envelope_fields_but_never_detail() -> None:
    event = {**EC2_EVENT, "replay-name": "nightly"}
    body = json.loads(transform('{"e": <aws.events.event>}', None, event))
    assert body["e"]["replay-name"] == "nightly"
    assert "detail" not in body["e"]
    assert "detail-type" not in body["e"]


def test_each_placeholder_occurrence_is_filled() -> None:
    rendered = transform('{"a": <s>, "b": "<s>/<s>", "c": [<s>]}', VALUE_PATHS, VALUES_EVENT)
    assert json.loads(rendered) == {"a": "latte", "b": "latte/latte", "c": ["latte"]}


# Validation ------------------------------------------------------------------------------------


def test_valid_inputs_pass() -> None:
    TargetInput().validate()
    TargetInput(input='{"a": [1, 2]}').validate()
    TargetInput(input_path="$.detail.items[0]").validate()
    both = {"a": "$.x", "b": "$.y"}
    transformer('{"a": <a>, "b": "<b>", "c": <aws.events.event>}', both).validate(target_id="t1")
    transformer("<a> and <b>", {"a": "$.x", "b": "$['y-z']"}).validate()


@pytest.mark.parametrize(
    ("target_input", "field", "message"),
    [
        (TargetInput(input="a" * 8193), "Input", "length less than or equal to 8192"),
        (TargetInput(input="env:dev"), "Input", "JSON syntax error in input for target t1"),
        (TargetInput(input=""), "Input", "JSON syntax error in input"),
        (TargetInput(input="NaN"), "Input", "NaN is not valid JSON"),
        (TargetInput(input_path="$." + "a" * 255), "InputPath", "less than or equal to 256"),
        (TargetInput(input_path="detail"), "InputPath", "must start with '$'"),
        (TargetInput(input_path="$..id"), "InputPath", "recursive descent"),
        (TargetInput(input_path="$.items[?(@.a)]"), "InputPath", "filter expressions"),
        (TargetInput(input_path="$.items[0:2]"), "InputPath", "slices"),
        (TargetInput(input_path="$.items[0,1]"), "InputPath", "unions"),
        (TargetInput(input_path="$.items.length()"), "InputPath", "functions"),
        (TargetInput(input_path="$.a b"), "InputPath", "unexpected ' '"),
        (
            transformer("<a>", {f"k{i}": "$.x" for i in range(101)} | {"a": "$.x"}),
            "InputTransformer.InputPathsMap",
            "less than or equal to 100",
        ),
        (
            transformer("<x>", {"aws.events.rule-name": "$.x", "x": "$.x"}),
            "InputTransformer.InputPathsMap",
            "cannot define 'aws.events.rule-name'",
        ),
        (
            transformer("<x>", {"AWS.mine": "$.x", "x": "$.x"}),
            "InputTransformer.InputPathsMap",
            "keys cannot start with 'AWS.'",
        ),
        (
            transformer("<a.b>", {"a.b": "$.x"}),
            "InputTransformer.InputPathsMap",
            r"regular expression pattern: [A-Za-z0-9\_\-]+",
        ),
        (
            transformer("<x>", {"x": "$." + "a" * 300}),
            "InputTransformer.InputPathsMap",
            "less than or equal to 256",
        ),
        (
            transformer("<x>", {"x": "$..a"}),
            "InputTransformer.InputPathsMap",
            "the path for 'x' is not a valid JSON path",
        ),
        (transformer(""), "InputTransformer.InputTemplate", "greater than or equal to 1"),
        (
            transformer('"' + "a" * 8192 + '"'),
            "InputTransformer.InputTemplate",
            "less than or equal to 8192",
        ),
        (
            transformer('{<k>: "v"}', {"k": "$.x"}),
            "InputTransformer.InputTemplate",
            "placeholders cannot be used as object keys",
        ),
        (
            transformer('{"a": {"<k>": 1}}', {"k": "$.x"}),
            "InputTransformer.InputTemplate",
            "placeholders cannot be used as object keys",
        ),
        (
            transformer('{"e": "<aws.events.event.json>"}'),
            "InputTransformer.InputTemplate",
            "inside a JSON string; it can only be used as the value of a JSON field",
        ),
        (
            transformer("event: <aws.events.event>"),
            "InputTransformer.InputTemplate",
            "in a text template",
        ),
        (
            transformer('{"a": <x> <x>}', {"x": "$.x"}),
            "InputTransformer.InputTemplate",
            "is not valid JSON: Expecting ',' delimiter",
        ),
        (
            transformer('{"a": 1', {}),
            "InputTransformer.InputTemplate",
            "must be a JSON object once its placeholders are filled",
        ),
        (
            transformer('"temperature < 5 and > 3"'),
            "InputTransformer.InputTemplate",
            "contains invalid placeholder  5 and .",
        ),
    ],
)
def test_invalid_inputs_name_the_field(target_input: TargetInput, field: str, message: str) -> None:
    error = invalid(target_input, target_id="t1")
    assert error.field == field
    assert message in str(error)
    assert isinstance(error, ValueError)


def test_messages_without_a_target_id_read_well() -> None:
    assert str(invalid(TargetInput(input="{", input_path="$"))) == (
        "Only one of Input, InputPath, or InputTransformer must be provided."
    )
    assert str(invalid(transformer("<nope>"))) == "InputTemplate contains invalid placeholder nope."


def test_render_refuses_an_invalid_target_input() -> None:
    with pytest.raises(InvalidTargetInputError, match="invalid placeholder"):
        transform('{"a": <undefined>}')


# from_aws / to_aws -----------------------------------------------------------------------------


def test_from_aws_reads_a_target_and_ignores_other_keys() -> None:
    target = {
        "Id": "t1",
        "Arn": "arn:aws:sqs:us-east-1:123456789012:q",
        "InputTransformer": {
            "InputPathsMap": {"instance": "$.detail.instance"},
            "InputTemplate": "<instance> is up",
        },
    }
    target_input = TargetInput.from_aws(target)
    assert target_input == TargetInput(
        input_transformer=InputTransformer("<instance> is up", {"instance": "$.detail.instance"})
    )
    assert target_input.to_aws() == {"InputTransformer": target["InputTransformer"]}
    assert TargetInput.from_aws({"Input": '{"a":1}'}).to_aws() == {"Input": '{"a":1}'}
    assert TargetInput.from_aws({"InputPath": "$.detail"}).to_aws() == {"InputPath": "$.detail"}
    assert TargetInput.from_aws({}).to_aws() == {}


def test_target_input_is_immutable_hashable_and_serialisable() -> None:
    paths = {"a": "$.x"}
    target_input = transformer("<a>", paths)
    paths["b"] = "$.y"
    assert target_input.input_transformer is not None
    assert dict(target_input.input_transformer.input_paths_map) == {"a": "$.x"}
    with pytest.raises(TypeError):
        target_input.input_transformer.input_paths_map["c"] = "$.z"  # type: ignore[index]
    assert hash(target_input) == hash(transformer("<a>", {"a": "$.x"}))
    assert json.loads(json.dumps(target_input.to_aws())) == target_input.to_aws()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"Input": {"a": 1}}, "Input"),
        ({"InputPath": 3}, "InputPath"),
        ({"InputTransformer": "x"}, "InputTransformer"),
        ({"InputTransformer": {"InputPathsMap": {}}}, "InputTransformer.InputTemplate"),
        (
            {"InputTransformer": {"InputTemplate": "x", "InputPathsMap": {"a": 1}}},
            "InputTransformer.InputPathsMap",
        ),
    ],
)
def test_from_aws_rejects_wrong_shapes(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidTargetInputError) as caught:
        TargetInput.from_aws(data)
    assert caught.value.field == field


# JSON paths ------------------------------------------------------------------------------------


def test_json_path_parser() -> None:
    assert parse_json_path("$").steps == ()
    assert parse_json_path("$.detail.items[0].name").steps == ("detail", "items", 0, "name")
    assert parse_json_path('$[\'a.b\']["c\\"d"]').steps == ("a.b", 'c"d')
    assert parse_json_path("$.detail.s3/key").steps == ("detail", "s3/key")
    assert parse_json_path("$.a[*].b").definite is False
    assert parse_json_path("$.a[1]").definite is True


def test_json_path_find() -> None:
    document = {"a": [{"b": 1}, {"b": None}, {}], "c": {"d": False}}
    assert parse_json_path("$.a[1].b").find(document) == (True, None)
    assert parse_json_path("$.a[2].b").find(document) == (False, None)
    assert parse_json_path("$.c.d").find(document) == (True, False)
    assert parse_json_path("$.a[*].b").find(document) == (True, [1, None])
    assert parse_json_path("$.c.d[*]").find(document) == (True, [])
    assert parse_json_path("$.a.b").find(document) == (False, None)
    assert parse_json_path("$.c[0]").find(document) == (False, None)


@pytest.mark.parametrize("path", ["", "detail", "$.", "$[", "$['a", "$[a]", "$.a.", "$.*x"])
def test_json_path_parser_rejects(path: str) -> None:
    with pytest.raises(InvalidJsonPathError):
        parse_json_path(path)


# Channels group names --------------------------------------------------------------------------


def test_format_group_name() -> None:
    event = {"source": "coffee", "detail": {"userId": 42, "order": {"id": "A-7"}, "ids": ["x"]}}
    assert format_group_name("customer.{detail.userId}", event) == "customer.42"
    assert format_group_name("{source}-{detail.order.id}", event) == "coffee-A-7"
    assert format_group_name("orders.{$.detail.ids[0]}", event) == "orders.x"
    assert format_group_name("baristas", event) == "baristas"


@pytest.mark.parametrize(
    ("template", "event", "message"),
    [
        ("customer.{detail.userId}", {"detail": {}}, "the event has no field detail.userId"),
        ("customer.{detail.userId}", {"detail": {"userId": None}}, "is a null"),
        ("customer.{detail.userId}", {"detail": {"userId": True}}, "is a bool"),
        ("customer.{detail.userId}", {"detail": {"userId": {"a": 1}}}, "is a dict"),
        ("customer.{detail.userId}", {"detail": {"userId": 1.5}}, "is a float"),
        ("customer.{detail.userId}", {"detail": {"userId": "a b"}}, "ASCII alphanumerics"),
        ("customer.{detail.userId}", {"detail": {"userId": "é"}}, "ASCII alphanumerics"),
        ("customer.{detail.userId}", {"detail": {"userId": "x\n"}}, "ASCII alphanumerics"),
        ("c.{detail.userId}", {"detail": {"userId": "x" * 98}}, "the limit is 99"),
        ("{detail.userId}", {"detail": {"userId": ""}}, "it is empty"),
    ],
)
def test_format_group_name_errors(template: str, event: dict[str, Any], message: str) -> None:
    with pytest.raises(GroupNameError) as caught:
        format_group_name(template, event)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "required"),
        ("customer.{detail.userId", "unbalanced brace"),
        ("customer}", "unbalanced brace"),
        ("customer.{}", "empty field"),
        ("customer.{detail..id}", "not a valid path"),
        ("customer.{detail.items[*].id}", "single value"),
        ("customer:{detail.id}", "ASCII alphanumerics"),
        ("c" * 100, "too long"),
    ],
)
def test_validate_group_template_errors(template: str, message: str) -> None:
    with pytest.raises(GroupNameError) as caught:
        validate_group_template(template)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_validate_group_template_accepts() -> None:
    validate_group_template("customer.{detail.userId}")
    validate_group_template("orders_{detail.items[0].id}-{source}")


# Properties ------------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_property_single_value_variable_equals_json_of_the_path_value(value: Any) -> None:
    event = {"detail": {"v": value}}
    rendered = transform('{ "k" : <v> }', {"v": "$.detail.v"}, event)
    assert json.loads(rendered) == {"k": value}
    assert rendered == '{"k":' + json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "}"


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_property_input_path_renders_the_json_of_the_value(value: Any) -> None:
    event = {"detail": {"v": value}}
    assert json.loads(render(event, TargetInput(input_path="$.detail.v"))) == value


safe_text = st.text(
    alphabet=st.characters(blacklist_characters='"\\<>', blacklist_categories=("Cc", "Cs"))
)


@settings(max_examples=200, deadline=None)
@given(prefix=safe_text, value=safe_text, suffix=safe_text)
def test_property_string_variable_inside_a_json_string_is_spliced_raw(
    prefix: str, value: str, suffix: str
) -> None:
    event = {"detail": {"v": value}}
    template = json.dumps({"k": prefix + "<v>" + suffix}, ensure_ascii=False)
    assert json.loads(transform(template, {"v": "$.detail.v"}, event)) == {
        "k": prefix + value + suffix
    }


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_characters="<>"), min_size=1))
def test_property_template_without_placeholders_renders_itself(text: str) -> None:
    target_input = transformer(text)
    try:
        target_input.validate()
    except InvalidTargetInputError:
        return  # e.g. text that starts with '{' but is not JSON
    rendered = render(EC2_EVENT, target_input)
    if rendered != text:
        assert json.loads(rendered) == json.loads(text)  # a JSON template, minified


key_names = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    input_=st.none() | st.just('{"a": 1}'),
    paths=st.dictionaries(key_names, st.just("$.detail.x"), max_size=5),
)
def test_property_from_aws_to_aws_round_trip(input_: str | None, paths: dict[str, str]) -> None:
    candidates = [
        TargetInput(input=input_),
        TargetInput(input_path="$.detail"),
        transformer("<aws.events.rule-name>", paths),
    ]
    for target_input in candidates:
        assert TargetInput.from_aws(target_input.to_aws()) == target_input


@settings(max_examples=200, deadline=None)
@given(
    user_id=st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=80)
    | st.integers(min_value=0)
)
def test_property_group_name_substitutes_the_field(user_id: str | int) -> None:
    event = {"detail": {"userId": user_id}}
    assert format_group_name("customer.{detail.userId}", event) == f"customer.{user_id}"


def test_reserved_variable_sets() -> None:
    assert JSON_ONLY_VARIABLES < RESERVED_VARIABLES
    assert len(RESERVED_VARIABLES) == 5
