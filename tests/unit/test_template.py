"""template.yaml deploys what the code needs: handlers, tables, queues, retries, logs."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from pydantic_settings import BaseSettings

from ghl_ai.config import (
    ChurnSettings,
    ChurnSweepSettings,
    IntakeSettings,
    RecommendationsSettings,
    ScoringSettings,
    WorkerSettings,
    WorkflowSettings,
)
from local.template import (
    ROOT,
    functions,
    handler_module_path,
    load_template,
    sqs_event_sources,
)

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(functions(TEMPLATE))
#: The settings model each function validates at init.
SETTINGS: dict[str, type[BaseSettings]] = {
    "IntakeFunction": IntakeSettings,
    "WorkerFunction": WorkerSettings,
    "ScoringFunction": ScoringSettings,
    "RecommendationsFunction": RecommendationsSettings,
    "WorkflowFunction": WorkflowSettings,
    "ChurnSweepFunction": ChurnSweepSettings,
    "ChurnScoreFunction": ChurnSettings,
}


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in RESOURCES.items() if res["Type"] == kind}


def environment(function: str) -> dict[str, Any]:
    return {
        **TEMPLATE["Globals"]["Function"]["Environment"]["Variables"],
        **RESOURCES[function]["Properties"].get("Environment", {}).get("Variables", {}),
    }


def timeout(function: str) -> int:
    props = RESOURCES[function]["Properties"]
    return int(props.get("Timeout", TEMPLATE["Globals"]["Function"].get("Timeout", 3)))


def test_the_template_declares_the_functions_we_have_settings_for() -> None:
    assert sorted(SETTINGS) == FUNCTIONS


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_handler_file_exists_and_exposes_the_handler(function: str) -> None:
    path, name = handler_module_path(TEMPLATE, function)
    assert path.is_file(), f"{function}: {path} does not exist"
    module_name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    module = importlib.import_module(module_name)
    assert callable(getattr(module, name, None)), f"{module_name} has no callable {name}"
    assert list(inspect.signature(getattr(module, name)).parameters)[:2] == ["event", "context"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_setting_a_function_requires_is_in_its_environment(function: str) -> None:
    env = environment(function)
    required = [
        name.upper()
        for name, field in SETTINGS[function].model_fields.items()
        if field.is_required()
    ]
    assert required, "settings without required fields make this test vacuous"
    assert [name for name in required if name not in env] == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_table_a_function_uses_exists_and_it_may_access(function: str) -> None:
    tables = of_type("AWS::DynamoDB::Table")
    env = environment(function)
    used = [name.upper() for name in SETTINGS[function].model_fields if name.endswith("_table")]
    assert used
    policy_tables = {
        next(iter(policy.values()))["TableName"]["Ref"]
        for policy in RESOURCES[function]["Properties"].get("Policies", [])
        if isinstance(policy, dict) and next(iter(policy)).startswith("DynamoDB")
    }
    for variable in used:
        assert variable in env, f"{function} uses {variable} but the template does not set it"
        logical = env[variable]["Ref"]
        assert logical in tables, f"{variable} refers to {logical}, which is not a table"
        assert logical in policy_tables, f"{function} has no DynamoDB policy for {logical}"


def test_the_intake_may_send_to_the_queue_it_is_configured_with() -> None:
    queue = environment("IntakeFunction")["JOBS_QUEUE_URL"]["Ref"]
    assert RESOURCES[queue]["Type"] == "AWS::SQS::Queue"
    send_policies = [
        p["SQSSendMessagePolicy"]["QueueName"]
        for p in RESOURCES["IntakeFunction"]["Properties"]["Policies"]
        if "SQSSendMessagePolicy" in p
    ]
    assert {"Fn::GetAtt": [queue, "QueueName"]} in send_policies


def test_the_sqs_consumers_report_partial_failures_and_park_failures_in_a_dlq() -> None:
    sources = sqs_event_sources(TEMPLATE)
    assert sorted((s.function, s.queue) for s in sources) == [
        ("ChurnScoreFunction", "ChurnQueue"),
        ("RecommendationsFunction", "MatchesQueue"),
        ("ScoringFunction", "ScoringQueue"),
        ("WorkerFunction", "JobsQueue"),
        ("WorkflowFunction", "WorkflowQueue"),
    ]
    assert all(s.report_batch_item_failures for s in sources)
    for source in sources:
        props = RESOURCES[source.queue]["Properties"]
        timeout = RESOURCES[source.function]["Properties"]["Timeout"]
        assert props["VisibilityTimeout"] == 6 * timeout, source.queue
        dlq = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert RESOURCES[dlq]["Type"] == "AWS::SQS::Queue"


def test_the_model_serving_functions_get_the_model_layer_and_no_training_libraries() -> None:
    for function in ("ScoringFunction", "RecommendationsFunction", "ChurnScoreFunction"):
        assert {"Ref": "ModelsLayer"} in RESOURCES[function]["Properties"]["Layers"], function
    layer = RESOURCES["ModelsLayer"]["Properties"]
    assert layer["ContentUri"] == "layers/models/"
    requirements = (ROOT / "layers" / "models" / "requirements.txt").read_text()
    pinned = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert [line.split("==")[0] for line in pinned] == ["numpy"]


def test_the_jobs_queue_parks_failures_in_the_dlq() -> None:
    policy = RESOURCES["JobsQueue"]["Properties"]["RedrivePolicy"]
    assert policy["deadLetterTargetArn"] == {"Fn::GetAtt": ["JobsDLQ", "Arn"]}
    assert RESOURCES["JobsDLQ"]["Type"] == "AWS::SQS::Queue"
    assert 1 < int(policy["maxReceiveCount"]) <= 10
    # The DLQ keeps messages longer than the source queue, or they could expire unread.
    assert int(RESOURCES["JobsDLQ"]["Properties"]["MessageRetentionPeriod"]) > int(
        RESOURCES["JobsQueue"]["Properties"]["MessageRetentionPeriod"]
    )


def test_every_consumed_queue_hides_messages_for_six_function_timeouts() -> None:
    for source in sqs_event_sources(TEMPLATE):
        visibility = int(RESOURCES[source.queue]["Properties"]["VisibilityTimeout"])
        assert visibility >= 6 * timeout(source.function), (source.queue, source.function)


def test_the_idempotency_table_matches_what_powertools_writes() -> None:
    defaults = inspect.signature(DynamoDBPersistenceLayer.__init__).parameters
    props = RESOURCES["IdempotencyTable"]["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": defaults["key_attr"].default, "KeyType": "HASH"}
    ]
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": defaults["expiry_attr"].default,
        "Enabled": True,
    }


def test_the_webhooks_table_expires_deliveries() -> None:
    ttl = RESOURCES["WebhooksTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expiresAt", "Enabled": True}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_a_log_group_with_retention(function: str) -> None:
    groups = [
        res["Properties"]
        for res in of_type("AWS::Logs::LogGroup").values()
        if res["Properties"].get("LogGroupName") == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}
    ]
    assert len(groups) == 1, f"{function} has {len(groups)} log groups"
    assert "RetentionInDays" in groups[0]


@pytest.mark.parametrize("table", sorted(of_type("AWS::DynamoDB::Table")))
def test_every_table_is_encrypted_and_on_demand(table: str) -> None:
    props = RESOURCES[table]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"] == {"SSEEnabled": True}
