"""template.yaml tells an operator when something goes wrong and bounds what the API takes: a
depth alarm on every DLQ, Errors and Throttles alarms on every function, the GHL error rates and
the model fallback rate, throttling on every route. A function, queue or route added without
them fails here; so does a scanner suppression whose stated reason stops being true."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ghl_ai.observability import NAMESPACE, SERVICE
from local.template import ROOT, functions, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]
FUNCTIONS = sorted(functions(TEMPLATE))
ALARM_ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in RESOURCES.items() if res["Type"] == kind}


ALARMS = {name: res["Properties"] for name, res in of_type("AWS::CloudWatch::Alarm").items()}


def dead_letter_queues() -> list[str]:
    return sorted(
        res["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for res in of_type("AWS::SQS::Queue").values()
        if "RedrivePolicy" in res["Properties"]
    )


def lambda_alarms(function: str, metric: str) -> list[dict[str, Any]]:
    return [
        props
        for props in ALARMS.values()
        if props.get("Namespace") == "AWS/Lambda"
        and props.get("MetricName") == metric
        and props.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    ]


def routes() -> list[str]:
    """Every route the HttpApi serves ("METHOD /path"), from the functions' HttpApi events."""
    found = []
    for function in FUNCTIONS:
        for event in RESOURCES[function]["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                found.append(f"{props['Method'].upper()} {props['Path']}")
    return sorted(found)


def default(value: Any) -> float:
    """A throttle value: a number, or a parameter with a numeric default."""
    if isinstance(value, dict):
        return float(PARAMETERS[value["Ref"]]["Default"])
    return float(value)


def skips(resource: str) -> dict[str, str]:
    """The checkov checks a resource skips, with their comments."""
    items = RESOURCES[resource].get("Metadata", {}).get("checkov", {}).get("skip", [])
    return {item["id"]: item.get("comment", "") for item in items}


# -- alarms ---------------------------------------------------------------------------------


def test_every_dead_letter_queue_has_a_depth_alarm() -> None:
    dlqs = dead_letter_queues()
    assert len(dlqs) >= 5, "no redrive policies found: this test would prove nothing"
    for dlq in dlqs:
        alarms = [
            props
            for props in ALARMS.values()
            if props.get("Namespace") == "AWS/SQS"
            and props.get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and props.get("Dimensions")
            == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}]
        ]
        assert len(alarms) == 1, f"{dlq} has {len(alarms)} depth alarms"
        # One parked message is already worth a look: it failed every retry.
        assert alarms[0]["Threshold"] == 0
        assert alarms[0]["ComparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_errors_and_throttles_alarms(function: str, metric: str) -> None:
    alarms = lambda_alarms(function, metric)
    assert len(alarms) == 1, f"{function} has {len(alarms)} {metric} alarms"
    assert alarms[0]["Statistic"] == "Sum"
    assert alarms[0]["Threshold"] == 0


def test_every_alarm_notifies_the_alarm_topic_when_one_is_given() -> None:
    assert PARAMETERS["AlarmTopicArn"]["Default"] == ""
    assert TEMPLATE["Conditions"]["HasAlarmTopic"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]
    }
    assert len(ALARMS) >= 2 * len(FUNCTIONS) + len(dead_letter_queues())
    for name, props in ALARMS.items():
        assert props.get("AlarmActions") == ALARM_ACTIONS, name
        assert props.get("OKActions") == ALARM_ACTIONS, name
        # No traffic is no trouble: a quiet night must not raise or hold an alarm.
        assert props.get("TreatMissingData") == "notBreaching", name


def custom_metrics(props: dict[str, Any]) -> list[dict[str, Any]]:
    """The custom (GhlRealEstateAI) metrics an alarm reads, plain or in metric math."""
    plain = [props] if props.get("Namespace") == NAMESPACE else []
    stats = [q["MetricStat"]["Metric"] for q in props.get("Metrics", []) if "MetricStat" in q]
    return plain + [m for m in stats if m.get("Namespace") == NAMESPACE]


def emitted_metric_names() -> set[str]:
    """Every literal metric name the shipped code adds (``add_metric(name="...")``)."""
    pattern = re.compile(r"add_metric\(\s*name=\"(\w+)\"")
    names: set[str] = set()
    for folder in ("shared", "functions"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(pattern.findall(path.read_text()))
    return names


def test_the_custom_metric_alarms_watch_metrics_the_code_emits() -> None:
    # Powertools puts every metric in the namespace and under the one "service" dimension.
    env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == NAMESPACE
    assert env["POWERTOOLS_SERVICE_NAME"] == SERVICE
    watched = {
        metric["MetricName"]: metric
        for props in ALARMS.values()
        for metric in custom_metrics(props)
    }
    assert {"IntakeErrors", "GhlApi4xx", "GhlApi5xx", "GhlApiRequests"} <= set(watched)
    assert {"ModelFallback", "ModelDecisions"} <= set(watched)
    for metric in watched.values():
        assert metric["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
    # An alarm on a metric nothing emits can never fire.
    assert sorted(set(watched) - emitted_metric_names()) == []


def test_the_rate_alarms_divide_by_their_volume_and_ignore_a_trickle() -> None:
    rate_alarms = {name: props for name, props in ALARMS.items() if "Metrics" in props}
    assert sorted(rate_alarms) == [
        "GhlApi4xxRateAlarm",
        "GhlApi5xxRateAlarm",
        "ModelFallbackRateAlarm",
    ]
    for name, props in rate_alarms.items():
        queries = {q["Id"]: q for q in props["Metrics"]}
        (returned,) = [q for q in props["Metrics"] if q.get("ReturnData", True)]
        expression = returned["Expression"]
        # IF(volume >= minimum, 100 * FILL(part, 0) / volume, 0): every id it names exists.
        named = set(re.findall(r"\b([a-z]\w*)\b", expression)) - {"IF", "FILL"}
        assert named <= set(queries), (name, named)
        assert re.match(r"IF\((\w+) >= \d+, 100 \* FILL\((\w+), 0\) / \1, 0\)$", expression)


# -- throttling -----------------------------------------------------------------------------


def test_every_route_is_throttled_and_no_setting_names_a_missing_route() -> None:
    api = RESOURCES["HttpApi"]["Properties"]
    fallback = api["DefaultRouteSettings"]
    assert default(fallback["ThrottlingRateLimit"]) > 0
    assert default(fallback["ThrottlingBurstLimit"]) >= default(fallback["ThrottlingRateLimit"])
    served = routes()
    assert len(served) >= 8
    # A route without its own setting would silently take the default; a setting for a route
    # that does not exist fails the deployment ("Unable to find Route by key").
    assert sorted(api["RouteSettings"]) == served, "give each route its HttpApi RouteSettings entry"
    for route, setting in api["RouteSettings"].items():
        rate, burst = setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"]
        assert default(rate) > 0, route
        assert default(burst) >= default(rate), route


def test_the_webhooks_get_more_room_than_the_browser_routes_and_the_reads() -> None:
    settings = RESOURCES["HttpApi"]["Properties"]["RouteSettings"]

    def rate(route: str) -> float:
        return default(settings[route]["ThrottlingRateLimit"])

    assert rate("POST /webhooks/ghl") > rate("POST /forms/lyrio") >= rate("GET /leads/{contactId}")
    assert rate("POST /webhooks/ghl/workflow") == rate("POST /webhooks/ghl")
    assert rate("POST /events") == rate("POST /forms/lyrio")


def test_every_sqs_consumer_is_capped_on_its_event_source() -> None:
    capped = []
    for function in FUNCTIONS:
        for event in RESOURCES[function]["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                scaling = event["Properties"].get("ScalingConfig", {})
                assert scaling.get("MaximumConcurrency") == {"Ref": "QueueConsumerMaxConcurrency"}
                capped.append(function)
    assert len(capped) >= 5
    assert int(PARAMETERS["QueueConsumerMaxConcurrency"]["MinValue"]) >= 2  # Lambda's minimum


def test_the_intake_reserves_concurrency_only_when_asked() -> None:
    props = RESOURCES["IntakeFunction"]["Properties"]
    assert props["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "HasIntakeReservedConcurrency",
            {"Ref": "IntakeReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert PARAMETERS["IntakeReservedConcurrency"]["Default"] == ""


# -- scanner suppressions stay true ---------------------------------------------------------


def test_every_checkov_skip_says_why() -> None:
    skipped = {name: skips(name) for name in RESOURCES}
    assert any(skipped.values())
    for name, checks in skipped.items():
        for check, comment in checks.items():
            assert len(comment) > 40, f"{name} skips {check} without a reason"


@pytest.mark.parametrize("queue", sorted(of_type("AWS::SQS::Queue")))
def test_a_queue_that_skips_the_kms_check_is_encrypted_by_sqs(queue: str) -> None:
    assert "CKV_AWS_27" in skips(queue)
    assert RESOURCES[queue]["Properties"]["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize("table", sorted(of_type("AWS::DynamoDB::Table")))
def test_a_table_without_point_in_time_recovery_holds_only_expiring_counters(table: str) -> None:
    props = RESOURCES[table]["Properties"]
    if props.get("PointInTimeRecoverySpecification") == {"PointInTimeRecoveryEnabled": True}:
        return
    assert table == "RateLimitsTable"
    assert "CKV_AWS_28" in skips(table)
    assert props["TimeToLiveSpecification"]["Enabled"] is True


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_that_skips_the_dlq_check_is_never_invoked_with_data_asynchronously(
    function: str,
) -> None:
    # SQS and API Gateway invoke synchronously (failures go back to the queue's redrive DLQ, or
    # to the caller); a schedule's event carries no data, and the next sweep redoes the work.
    assert "CKV_AWS_116" in skips(function)
    kinds = {e["Type"] for e in RESOURCES[function]["Properties"].get("Events", {}).values()}
    assert kinds and kinds <= {"SQS", "HttpApi", "Schedule"}, kinds
