"""Read template.yaml and create its tables and queues in a local AWS (moto), so tests and the
local stack run against exactly what deploys. Also derives each function's environment and
SQS event sources from the template, resolving ``!Ref``/``!GetAtt`` to the local resources, and
the HTTP API's routes and CORS configuration for the local API Gateway."""

from __future__ import annotations

import os
import re
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
        return yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass  # nosec B506


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
    #: The template's secrets (AWS::SecretsManager::Secret) by logical id: ARN and value.
    secrets: dict[str, tuple[str, str]] = field(default_factory=dict)
    _secretsmanager: Any = field(default=None, repr=False, compare=False)

    def secret_arn(self, logical: str, value: str) -> str:
        """The ARN of the template's secret ``logical`` holding ``value``, created (or given
        the value) in the local AWS on first use, as CloudFormation creates it from the
        parameters when it deploys."""
        known = self.secrets.get(logical)
        if known is not None and known[1] == value:
            return known[0]
        if self._secretsmanager is None:
            import boto3

            self._secretsmanager = boto3.client("secretsmanager")
        client = self._secretsmanager
        try:
            arn = client.create_secret(Name=logical, SecretString=value)["ARN"]
        except client.exceptions.ResourceExistsException:
            arn = client.put_secret_value(SecretId=logical, SecretString=value)["ARN"]
        self.secrets[logical] = (arn, value)
        return str(arn)

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
        attributes: dict[str, str] = {}
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
    context = _Intrinsics(template, params)
    secrets = _resources(template, "AWS::SecretsManager::Secret")
    env = {}
    for key, value in merged.items():
        # A secret's ARN, when its condition holds (template.yaml: NoEcho parameters).
        if isinstance(value, dict) and "Fn::If" in value:
            condition, if_true, if_false = value["Fn::If"]
            value = if_true if context.condition(condition) else if_false
        if isinstance(value, dict) and value.get("Ref") in secrets:
            text = secrets[value["Ref"]]["SecretString"]
            if isinstance(text, dict) and "Fn::Sub" in text:
                text = re.sub(r"\$\{([^}]+)\}", lambda m: params.get(m[1], ""), text["Fn::Sub"])
            env[key] = resources.secret_arn(value["Ref"], str(context.evaluate(text)))
        elif value != {"Ref": "AWS::NoValue"}:
            env[key] = str(resources.resolve(value, params))
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


# -- the HTTP API: its routes and its CORS configuration ----------------------------------------


@dataclass(frozen=True)
class HttpRoute:
    """A route of the template's HTTP API: a function's ``HttpApi`` event."""

    function: str
    method: str  # GET, POST, ... or ANY
    path: str  # /leads/{contactId}, /{proxy+} or $default


def http_routes(template: dict[str, Any]) -> list[HttpRoute]:
    """Every function's ``HttpApi`` events (SAM: no Path and no Method is the ``$default``
    route; no Method is ANY)."""
    routes = []
    for name, props in functions(template).items():
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            p = event.get("Properties") or {}
            method = str(p.get("Method", "ANY")).upper()
            routes.append(HttpRoute(name, method, str(p.get("Path", "$default"))))
    return routes


@dataclass(frozen=True)
class CorsConfiguration:
    """An ``AWS::Serverless::HttpApi``'s CorsConfiguration, its intrinsics resolved."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


class _NoValue:
    """``AWS::NoValue``: the property is left out."""


NO_VALUE = _NoValue()


class _Intrinsics:
    """Evaluates the intrinsic functions a property may use (``!Ref``, ``!If``, ``!Join``,
    ``!Split``, ``!Select``, conditions) against parameter values, as CloudFormation would."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self.template = template
        self.parameters = parameters
        self._conditions: dict[str, bool] = {}

    def evaluate(self, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (self.evaluate(item) for item in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::If":
                name, if_true, if_false = arg
                return self.evaluate(if_true if self.condition(name) else if_false)
            if key == "Fn::Join":
                separator, parts = arg
                return separator.join(str(p) for p in self.evaluate(parts))
            if key == "Fn::Split":
                separator, text = arg
                return str(self.evaluate(text)).split(separator)
            if key == "Fn::Select":
                index, items = arg
                return self.evaluate(items)[int(self.evaluate(index))]
            if key == "Fn::Equals":
                left, right = arg
                return self.evaluate(left) == self.evaluate(right)
            if key in ("Fn::Not", "Fn::And", "Fn::Or"):
                values = [self._boolean(item) for item in arg]
                if key == "Fn::Not":
                    return not values[0]
                return all(values) if key == "Fn::And" else any(values)
            if key.startswith("Fn::"):
                raise ValueError(f"{key} is not evaluated locally (local/template.py)")
        items = ((k, self.evaluate(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not NO_VALUE}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self._boolean(self.template["Conditions"][name])
        return self._conditions[name]

    def _boolean(self, value: Any) -> bool:
        result = self.evaluate(value)
        if not isinstance(result, bool):
            raise ValueError(f"a condition evaluated to {result!r}, not a boolean")
        return result

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}
        if name in pseudo or name.startswith("AWS::"):
            return pseudo.get(name, "")
        declared = self.template.get("Parameters", {}).get(name)
        if declared is None:
            return name  # a resource: its logical id stands for it
        value = self.parameters.get(name, "")
        kind = str(declared.get("Type", "String"))
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            return value.split(",")
        return value


def _names(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [] if value in (None, NO_VALUE) else [value]
    return tuple(text for text in (str(item).strip() for item in items) if text)


def environment_parameters(
    template: dict[str, Any], environ: dict[str, str] | None = None
) -> dict[str, str]:
    """Parameter values set in the environment, each under its name in upper snake case
    (``LyrioAllowedOrigins`` from ``LYRIO_ALLOWED_ORIGINS``), the names ``make run`` reads."""
    env = dict(os.environ) if environ is None else environ
    found = {}
    for name in template.get("Parameters", {}):
        variable = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()
        if variable in env:
            found[name] = env[variable]
    return found


def cors_configuration(
    template: dict[str, Any], parameters: dict[str, str] | None = None
) -> CorsConfiguration | None:
    """The CorsConfiguration of the template's HttpApi, with the parameters' defaults
    overridden by ``parameters``; None when it has none (API Gateway then answers no preflight
    and passes the function's CORS headers through)."""
    apis = _resources(template, "AWS::Serverless::HttpApi")
    if not apis:
        return None
    (props, *_) = apis.values()
    context = _Intrinsics(template, {**parameter_defaults(template), **(parameters or {})})
    value = context.evaluate(props.get("CorsConfiguration", NO_VALUE))
    if value is NO_VALUE or value is None or value is False:
        return None
    if value is True:  # SAM's shorthand: any origin, method and header
        return CorsConfiguration(allow_origins=("*",), allow_methods=("*",), allow_headers=("*",))
    if not isinstance(value, dict):
        raise ValueError(f"HttpApi CorsConfiguration is {value!r}, not a mapping")
    max_age = value.get("MaxAge")
    cors = CorsConfiguration(
        allow_origins=_names(value.get("AllowOrigins")),
        allow_methods=tuple(m.upper() for m in _names(value.get("AllowMethods"))),
        allow_headers=tuple(h.lower() for h in _names(value.get("AllowHeaders"))),
        expose_headers=tuple(h.lower() for h in _names(value.get("ExposeHeaders"))),
        max_age=int(max_age) if max_age is not None else None,
        allow_credentials=str(value.get("AllowCredentials", False)).lower() == "true",
    )
    if cors.allow_credentials and "*" in cors.allow_origins:
        # API Gateway refuses this configuration at deploy time.
        raise ValueError("CorsConfiguration: AllowCredentials cannot be used with AllowOrigins *")
    return cors
