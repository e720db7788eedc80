"""The local stack the soak runs, one process per Lambda container, faults at the edges.

- moto (soak/aws.py: one DynamoDB request at a time, as DynamoDB serialises the writes of an
  item) and in front of it the AWS fault proxy (local/faults.py): DynamoDB throttling, SQS
  deletes that do not stick. Tables and queues come from template.yaml (local/template.py);
  the queues' visibility timeout is short (36 s: deployed 180-720 s) and the queue functions'
  Lambda timeout 30 s, keeping the template's order (visibility > timeout).
- GHL and Anthropic: the loopback stand-ins of local/, in this process, injecting their faults.
- Each function of template.yaml in its own process (soak/container.py), with the environment
  the template gives it: the intake behind the local API Gateway (two containers, so copies of
  one delivery race), the worker on the jobs queue (ten), the ScoringFunction (three), the
  WorkflowFunction (its queue, and its sweep schedule in a container of its own) and the
  RecommendationsFunction on the matches queue. A container that dies — killed by the soak,
  or ending itself past its Lambda timeout — is started again, as Lambda starts a new one.

The environment differs from a deployed one only where the soak needs it to: GHL and Anthropic
are the stand-ins (``ANTHROPIC_API_KEY`` is set, so the Claude path runs), quiet hours are off
and the per-lead workflow caps high (every reply and step may go at once), vague answers never
hand a lead off, and workflow waits run ``time_scale`` times faster.

Every line a container writes to stdout (its log, as Lambda ships it) goes to
``<out>/logs/<container>.log``; the harness's notices (stderr) to ``<out>/harness/``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soak.container import TIMED_OUT

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
LOCATION_ID = "t9Ww7bY1xJJ6ThFHZVPC"
PERSONA = {
    "AGENT_NAME": "Jorge",
    "BROKERAGE": "Sunbelt Realty",
    "MARKET_AREA": "Austin",
    "MARKET_AREAS": "Westlake,Round Rock,Cedar Park,Mueller,South Congress,Pflugerville",
    "LOCATION_TIMEZONE": "America/Chicago",
}


@dataclass(frozen=True)
class StackConfig:
    intakes: int = 2
    workers: int = 10
    scorers: int = 3
    #: The SQS containers' Lambda timeout and the queues' visibility timeout (seconds).
    function_timeout: float = 30.0
    visibility_timeout: int = 36
    #: Workflow waits and the sweep schedule run this many times faster.
    time_scale: float = 1440.0
    #: The worker's Anthropic client timeout (ANTHROPIC_TIMEOUT_SECONDS).
    anthropic_client_timeout: float = 2.0
    seed: int = 7
    # Fault rates (probabilities per call / per deleted message).
    ghl_429: float = 0.02
    ghl_500: float = 0.01
    ghl_502_503: float = 0.02
    ghl_timeout: float = 0.001
    ghl_dropped: float = 0.005
    anthropic_500: float = 0.08
    anthropic_529: float = 0.08
    anthropic_timeout: float = 0.03
    dynamodb_throttle: float = 0.01
    sqs_redeliver: float = 0.02

    def faults(self) -> dict[str, dict[str, float]]:
        return {
            "GHL (per API call)": {
                "429 with Retry-After": self.ghl_429,
                "500": self.ghl_500,
                "502 / 503": self.ghl_502_503,
                "timeout (carried out, answered too late)": self.ghl_timeout,
                "dropped connection (carried out, no answer)": self.ghl_dropped,
            },
            "Anthropic (per call)": {
                "500": self.anthropic_500,
                "529 overloaded": self.anthropic_529,
                "timeout": self.anthropic_timeout,
            },
            "DynamoDB (per data-plane request)": {"throttled": self.dynamodb_throttle},
            "SQS (per deleted message)": {"delete lost: redelivered": self.sqs_redeliver},
        }


@dataclass
class Container:
    """One process of the stack, started again when it dies (functions only)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    function: str | None = None
    queue: str | None = None
    restart: bool = True
    process: subprocess.Popen[str] | None = None
    busy_since: float | None = None
    exits: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    records: int = 0
    redelivered_records: int = 0
    failed_records: int = 0
    ready: threading.Event = field(default_factory=threading.Event)
    killing: bool = False
    #: CPU seconds of the processes that ended, and of the running one when last looked at.
    cpu_ended: float = 0.0
    cpu_now: float = 0.0

    @property
    def cpu(self) -> float:
        return self.cpu_ended + self.cpu_now

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_file(path: Path, process: subprocess.Popen[str], what: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} while starting")
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within 60 s")


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a running process (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pid_of_peer(port: int, candidates: dict[int, Any]) -> int | None:
    """The process (among ``candidates``) owning the local TCP socket bound to ``port`` — the
    client end of a loopback connection. Linux only (/proc); None elsewhere or when gone."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{parts[9]}]")
    if not inodes:
        return None
    for pid in candidates:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                continue
    return None


class SoakStack:
    def __init__(self, config: StackConfig, out: Path, say: Callable[[str], None]) -> None:
        self.config = config
        self.out = out
        self.say = say
        self.logs = out / "logs"
        self.harness = out / "harness"
        for d in (self.logs, self.harness):
            d.mkdir(parents=True, exist_ok=True)
            for old in d.glob("*"):
                old.unlink()
        self.containers: list[Container] = []
        self._servers: list[subprocess.Popen[str]] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.kills: Counter[str] = Counter()
        self._kill_at_send = threading.Event()
        self.on_sms: Callable[[str], None] | None = None
        # The secrets of this run: looked for in the logs afterwards.
        self.ghl_token = "pit-soak-" + secrets.token_hex(12)
        self.anthropic_key = "sk-ant-soak-" + secrets.token_hex(16)

    # -- start -------------------------------------------------------------------------------
    def start(self) -> None:
        import boto3

        from local import devkeys
        from local.anthropic_standin import AnthropicFaults, AnthropicStandIn
        from local.ghl_standin import GhlFaults, GhlStandIn
        from local.template import create_resources, load_template

        c = self.config
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "soak",
                "AWS_SECRET_ACCESS_KEY": "soak",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        moto_port = self._server("moto", [])
        self.moto_url = f"http://127.0.0.1:{moto_port}"
        # The harness's own calls (set-up, the template's secrets, the checks) go to moto
        # directly: no faults on them.
        os.environ["AWS_ENDPOINT_URL"] = self.moto_url
        proxy_port = self._server(
            "proxy",
            [
                "--target",
                self.moto_url,
                "--dynamodb-throttle",
                str(c.dynamodb_throttle),
                "--sqs-redeliver",
                str(c.sqs_redeliver),
                "--seed",
                str(c.seed),
            ],
        )
        self.proxy_url = f"http://127.0.0.1:{proxy_port}"
        # The harness reads and sets up through moto directly: no faults on its own calls.
        self.dynamodb = boto3.client("dynamodb", endpoint_url=self.moto_url)
        self.sqs = boto3.client("sqs", endpoint_url=self.moto_url)
        self.template = load_template()
        self.resources = create_resources(
            self.dynamodb, self.sqs, self.template, visibility_timeout=c.visibility_timeout
        )

        self.ghl = GhlStandIn(
            location_id=LOCATION_ID,
            timezone=PERSONA["LOCATION_TIMEZONE"],
            faults=GhlFaults(
                rate_limited=c.ghl_429,
                server_error=c.ghl_500,
                bad_gateway=c.ghl_502_503,
                timeout=c.ghl_timeout,
                dropped=c.ghl_dropped,
                retry_after=1.0,
                timeout_delay=10.5,  # the GHL client gives up after 10 s
                seed=c.seed + 1,
            ),
            before_answer=self._before_ghl_answer,
        ).start()
        from bench.worker import claude_responder

        self.anthropic = AnthropicStandIn(
            responder=claude_responder(tuple(PERSONA["MARKET_AREAS"].split(",")), "Jorge"),
            api_key=self.anthropic_key,
            faults=AnthropicFaults(
                server_error=c.anthropic_500,
                overloaded=c.anthropic_529,
                timeout=c.anthropic_timeout,
                timeout_delay=c.anthropic_client_timeout + 1.0,
                seed=c.seed + 2,
            ),
        ).start()
        self.parameters = {
            "GhlLocationId": LOCATION_ID,
            "GhlApiToken": self.ghl_token,
            "GhlApiBaseUrl": self.ghl.base_url,
            "GhlWebhookPublicKey": devkeys.PUBLIC_KEY_PEM,
            "GhlWorkflowSecret": devkeys.WORKFLOW_SECRET,
            "ApiKey": devkeys.API_KEY,
            "LyrioSiteKey": devkeys.SITE_KEY,
            "AnthropicApiKey": self.anthropic_key,
            "AnthropicModel": "claude-soak-model",
            "ListingUrlTemplate": "https://homes.example.com/listing/{listingKey}",
        }

        for i in range(c.intakes):
            port = _free_port()
            self._container(
                f"intake-{i + 1}", "IntakeFunction", ["--http-port", str(port)], port=port
            )
        sources = {s.function: s for s in _sqs_sources(self.template)}
        for function, count in (
            ("WorkerFunction", c.workers),
            ("ScoringFunction", c.scorers),
            ("WorkflowFunction", 1),
            ("RecommendationsFunction", 1),
        ):
            source = sources[function]
            for i in range(count):
                self._container(
                    f"{_short(function)}-{i + 1}",
                    function,
                    [
                        "--queue-url",
                        self.resources.queue_urls[source.queue],
                        "--queue-arn",
                        self.resources.queue_arns[source.queue],
                        "--batch-size",
                        str(source.batch_size),
                        "--timeout",
                        str(c.function_timeout),
                        *(
                            []
                            if source.report_batch_item_failures
                            else ["--no-batch-item-failures"]
                        ),
                    ],
                    queue=source.queue,
                )
        every = max(1.0, 60.0 / c.time_scale)
        self._container(
            "workflow-sweep",
            "WorkflowFunction",
            ["--schedule-every", str(every), "--timeout", str(c.function_timeout)],
        )
        threading.Thread(target=self._supervise, name="supervisor", daemon=True).start()
        for container in self.containers:
            if not container.ready.wait(90):
                raise RuntimeError(f"{container.name} did not start")

    @property
    def intake_urls(self) -> list[str]:
        return [c.env["SOAK_URL"] for c in self.containers if c.function == "IntakeFunction"]

    def _server(self, what: str, args: list[str]) -> int:
        port_file = self.harness / f"{what}.port"
        port_file.unlink(missing_ok=True)
        process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "soak.aws", what, "--port-file", str(port_file), *args],
            cwd=ROOT,
            stdout=(self.harness / f"{what}.out").open("w"),
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._servers.append(process)
        return int(_wait_for_file(port_file, process, what))

    def _function_env(self, function: str) -> dict[str, str]:
        from local.template import function_environment

        c = self.config
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        env.update(function_environment(self.template, function, self.resources, self.parameters))
        env.update(
            {
                "AWS_ACCESS_KEY_ID": "soak",
                "AWS_SECRET_ACCESS_KEY": "soak",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                "AWS_ENDPOINT_URL": self.proxy_url,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "PYTHONUNBUFFERED": "1",
                "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1",
                "ANTHROPIC_BASE_URL": self.anthropic.base_url,
                "ANTHROPIC_TIMEOUT_SECONDS": str(c.anthropic_client_timeout),
                # Every reply and workflow text may go at once (quiet hours are tested
                # elsewhere), no vague-answer hand-off, caps high enough not to hold steps.
                "QUIET_HOURS_START": "0",
                "QUIET_HOURS_END": "24",
                "MAX_VAGUE_ANSWERS": "1000",
                "WORKFLOW_DAILY_CAP": "50",
                "WORKFLOW_WEEKLY_CAP": "200",
                "WORKFLOW_TIME_SCALE": str(c.time_scale),
                **PERSONA,
            }
        )
        return env

    def _container(
        self,
        name: str,
        function: str,
        args: list[str],
        *,
        queue: str | None = None,
        port: int | None = None,
    ) -> Container:
        env = self._function_env(function)
        if port is not None:
            env["SOAK_URL"] = f"http://127.0.0.1:{port}"
        container = Container(
            name=name,
            argv=[sys.executable, "-m", "soak.container", function, *args],
            env=env,
            function=function,
            queue=queue,
        )
        self.containers.append(container)
        self._launch(container)
        return container

    def _launch(self, container: Container) -> None:
        container.ready.clear()
        container.busy_since = None
        log = (self.logs / f"{container.name}.log").open("a")
        process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            container.argv,
            cwd=ROOT,
            env=container.env,
            stdout=log,
            stderr=subprocess.PIPE,
            text=True,
        )
        log.close()
        container.process = process
        threading.Thread(target=self._read_notices, args=(container, process), daemon=True).start()

    def _read_notices(self, container: Container, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        with (self.harness / f"{container.name}.stderr").open("a") as other:
            for line in process.stderr:
                if not line.startswith("@soak "):
                    other.write(line)
                    other.flush()
                    continue
                notice = json.loads(line[6:])
                event = notice["event"]
                with self._lock:
                    if event == "ready":
                        container.ready.set()
                    elif event == "batch":
                        container.busy_since = time.monotonic()
                        container.batches += 1
                        container.records += int(notice["records"])
                        container.redelivered_records += int(notice["redelivered"])
                    elif event == "batch-done":
                        container.busy_since = None
                        container.failed_records += int(notice["failed"])

    def _supervise(self) -> None:
        looked = 0.0
        while not self._stopping.is_set():
            if time.monotonic() - looked > 1.0:
                looked = time.monotonic()
                for container in self.containers:
                    if container.process is not None and container.process.poll() is None:
                        container.cpu_now = cpu_seconds(container.pid) or container.cpu_now
            for container in self.containers:
                process = container.process
                if process is None or process.poll() is None or self._stopping.is_set():
                    continue
                code = process.returncode
                with self._lock:
                    if container.killing:
                        cause = "killed by the soak (SIGKILL)"
                    elif code == TIMED_OUT:
                        cause = "ran past its Lambda timeout (container ended)"
                    else:
                        cause = f"crashed (exit status {code})"
                    container.exits[cause] += 1
                    container.killing = False
                    container.cpu_ended += container.cpu_now
                    container.cpu_now = 0.0
                if cause.startswith("crashed"):
                    self.say(
                        f"  ! {container.name} {cause}; see {self.harness}/{container.name}.stderr"
                    )
                self._launch(container)
            time.sleep(0.1)

    # -- faults the soak causes itself -------------------------------------------------------
    def workers(self) -> list[Container]:
        return [c for c in self.containers if c.function == "WorkerFunction"]

    def kill_mid_batch(self, timeout: float = 20.0) -> str | None:
        """SIGKILL a worker container while it is inside a batch. Returns its name."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stopping.is_set():
            with self._lock:
                busy = [
                    c
                    for c in self.workers()
                    if c.busy_since is not None
                    and time.monotonic() - c.busy_since > 0.05
                    and not c.killing
                ]
                if busy:
                    victim = busy[0]
                    victim.killing = True
                    assert victim.pid is not None
                    os.kill(victim.pid, signal.SIGKILL)
                    self.kills["worker killed mid-batch (SIGKILL at a random moment)"] += 1
                    return victim.name
            time.sleep(0.01)
        return None

    def kill_at_next_send(self) -> None:
        """SIGKILL the worker whose next SMS GHL carries out, before GHL's answer reaches it."""
        self._kill_at_send.set()

    def _before_ghl_answer(
        self, call: Any, status: int, payload: Any, client: tuple[str, int]
    ) -> bool:
        if call.method != "POST" or call.path != "/conversations/messages" or status >= 300:
            return False
        contact = str((call.json or {}).get("contactId") or "")
        if self.on_sms is not None and contact:
            self.on_sms(contact)
        if not self._kill_at_send.is_set():
            return False
        workers = {c.pid: c for c in self.workers() if c.pid is not None}
        pid = pid_of_peer(client[1], workers)
        if pid is None:
            return False
        with self._lock:
            if not self._kill_at_send.is_set():
                return False
            self._kill_at_send.clear()
            victim = workers[pid]
            victim.killing = True
            os.kill(pid, signal.SIGKILL)
            self.kills["worker killed after GHL carried out its SMS, before the answer"] += 1
        return True

    # -- looking at it -----------------------------------------------------------------------
    def queue_depths(self) -> dict[str, dict[str, int]]:
        out = {}
        for logical, url in self.resources.queue_urls.items():
            attrs = self.sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            out[logical] = {
                "visible": int(attrs["ApproximateNumberOfMessages"]),
                "in flight": int(attrs["ApproximateNumberOfMessagesNotVisible"]),
                "delayed": int(attrs["ApproximateNumberOfMessagesDelayed"]),
            }
        return out

    def busy(self) -> bool:
        with self._lock:
            return any(c.busy_since is not None for c in self.containers)

    def proxy_stats(self) -> dict[str, Any]:
        import httpx

        return dict(httpx.get(f"{self.proxy_url}/_faults", timeout=10).json())

    # -- stop --------------------------------------------------------------------------------
    def cpu(self) -> dict[str, float]:
        """CPU seconds so far: each container (all its processes) and each server."""
        out = {c.name: round(c.cpu, 1) for c in self.containers}
        for name, process in zip(("moto", "proxy"), self._servers, strict=False):
            out[name] = round(cpu_seconds(process.pid) or 0.0, 1)
        return out

    def stop(self) -> None:
        self._stopping.set()
        for container in self.containers:
            if container.process is not None and container.process.poll() is None:
                container.process.terminate()
        for container in self.containers:
            if container.process is not None:
                try:
                    container.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    container.process.kill()
        for attr in ("ghl", "anthropic"):
            standin = getattr(self, attr, None)
            if standin is not None:
                standin.stop()
        for process in self._servers:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


def _short(function: str) -> str:
    return {
        "WorkerFunction": "worker",
        "ScoringFunction": "scoring",
        "WorkflowFunction": "workflow",
        "RecommendationsFunction": "matches",
    }[function]


def _sqs_sources(template: dict[str, Any]) -> list[Any]:
    from local.template import sqs_event_sources

    return sqs_event_sources(template)
