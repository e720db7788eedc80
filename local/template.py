"""Read template.yaml and create its tables and queues in a local AWS (moto), so tests and the
local stack run against exactly what deploys. Also derives each function's environment and
SQS event sources from the template, resolving ``!Ref``/``!GetAtt`` to the local resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short-form tags into their long form."""


def _intrinsic(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open() as fh:
        return yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class EventSource:
    function: str
    queue: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass
class LocalResources:
    """Physical names of the resources created locally, by logical id."""

    tables: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)

    def resolve(self, value: Any, parameters: dict[str, str]) -> Any:
        if isinstance(value, dict) and "Ref" in value:
            ref = value["Ref"]
            if ref in self.tables:
                return self.tables[ref]
            if ref in self.queue_urls:
                return self.queue_urls[ref]
            return parameters.get(ref, "")
        if isinstance(value, dict) and "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            if isinstance(parts, dict):  # a list parameter: already comma-joined text here
                return str(self.resolve(parts, parameters))
            return separator.join(str(self.resolve(part, parameters)) for part in parts)
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            logical, attr = value["Fn::GetAtt"]
            if attr == "Arn" and logical in self.queue_arns:
                return self.queue_arns[logical]
            if attr == "QueueName" and logical in self.queue_urls:
                return self.queue_urls[logical].rsplit("/", 1)[-1]
        return value


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: res.get("Properties", {})
        for name, res in template["Resources"].items()
        if res["Type"] == kind
    }


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}


def create_tables(dynamodb: Any, template: dict[str, Any], prefix: str = "") -> dict[str, str]:
    names = {}
    for logical, props in _resources(template, "AWS::DynamoDB::Table").items():
        name = f"{prefix}{logical}"
        args: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
            if key in props:
                args[key] = props[key]
        dynamodb.create_table(**args)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        names[logical] = name
    return names


def create_queues(
    sqs: Any,
    template: dict[str, Any],
    resources: LocalResources,
    prefix: str = "",
    visibility_timeout: int | None = None,
) -> None:
    """Create queues (DLQs first, so redrive policies can point at them)."""
    queues = _resources(template, "AWS::SQS::Queue")
    ordered = sorted(queues, key=lambda logical: "RedrivePolicy" in queues[logical])
    for logical in ordered:
        props = queues[logical]
        attributes = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in props:
                attributes[key] = str(props[key])
        if visibility_timeout is not None and "RedrivePolicy" in props:
            attributes["VisibilityTimeout"] = str(visibility_timeout)
        if "RedrivePolicy" in props:
            policy = props["RedrivePolicy"]
            target = resources.resolve(policy["deadLetterTargetArn"], {})
            attributes["RedrivePolicy"] = (
                f'{{"deadLetterTargetArn":"{target}","maxReceiveCount":"{policy["maxReceiveCount"]}"}}'
            )
        url = sqs.create_queue(QueueName=f"{prefix}{logical}", Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        resources.queue_urls[logical] = url
        resources.queue_arns[logical] = arn


def create_resources(
    dynamodb: Any,
    sqs: Any,
    template: dict[str, Any] | None = None,
    prefix: str = "",
    visibility_timeout: int | None = None,
) -> LocalResources:
    template = template or load_template()
    resources = LocalResources(tables=create_tables(dynamodb, template, prefix))
    create_queues(sqs, template, resources, prefix, visibility_timeout)
    return resources


def function_environment(
    template: dict[str, Any],
    function: str,
    resources: LocalResources,
    parameters: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment a function gets when deployed, with local resource names."""
    params = {**parameter_defaults(template), **(parameters or {})}
    merged = {
        **template.get("Globals", {})
        .get("Function", {})
        .get("Environment", {})
        .get("Variables", {}),
        **template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {}),
    }
    env = {key: str(resources.resolve(value, params)) for key, value in merged.items()}
    return {key: value for key, value in env.items() if value != ""}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return _resources(template, "AWS::Serverless::Function")


def sqs_event_sources(template: dict[str, Any]) -> list[EventSource]:
    sources = []
    for name, props in functions(template).items():
        for event in props.get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
            sources.append(
                EventSource(
                    function=name,
                    queue=queue,
                    batch_size=int(event["Properties"].get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in event["Properties"].get("FunctionResponseTypes", []),
                )
            )
    return sources


def handler_module_path(template: dict[str, Any], function: str) -> tuple[Path, str]:
    """(file of the handler module, handler function name) for a function in the template."""
    props = functions(template)[function]
    module, func = props["Handler"].rsplit(".", 1)
    return ROOT / props["CodeUri"] / f"{module.replace('.', '/')}.py", func


@dataclass(frozen=True)
class ScheduleSource:
    function: str
    every_seconds: float


def schedule_sources(template: dict[str, Any], parameters: dict[str, str]) -> list[ScheduleSource]:
    """The functions' ``Schedule`` events (``rate(N minute|minutes|hour|hours)``)."""
    sources = []
    units = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
    for name, props in functions(template).items():
        for event in props.get("Events", {}).values():
            if event.get("Type") != "Schedule":
                continue
            expression = event["Properties"]["Schedule"]
            if isinstance(expression, dict) and "Ref" in expression:
                ref = expression["Ref"]
                default = template["Parameters"][ref].get("Default", "")
                expression = parameters.get(ref) or default
            text = str(expression).removeprefix("rate(").removesuffix(")").split()
            if len(text) == 2 and text[1] in units:
                sources.append(ScheduleSource(name, float(text[0]) * units[text[1]]))
    return sources
