"""Starting workflows from what happens to a lead: each workflow's ``trigger`` names the event
(``first_outbound``, ``appointment_created``, ``score_hot``, ``behaviour_alert``,
``tag_added``, ``churn_risk``); the worker and the ScoringFunction call :meth:`fire`, which
queues a :class:`~ghl_ai.jobs.WorkflowStartJob` for every workflow of the location whose
trigger matches (the WorkflowFunction then creates the run, once per lead and workflow).
"""

from __future__ import annotations

from collections.abc import Mapping

from ghl_ai.adapters.queue import JobQueue
from ghl_ai.jobs import WorkflowReplyJob, WorkflowStartJob
from ghl_ai.leads.models import LeadKey
from ghl_ai.observability import logger
from ghl_ai.tenants import TenantDirectory
from ghl_ai.webhooks.events import utcnow
from ghl_ai.workflows.catalogue import builtin, for_location
from ghl_ai.workflows.definition import Workflow, WorkflowError


class WorkflowStarter:
    def __init__(self, queue: JobQueue, tenants: TenantDirectory) -> None:
        self._queue = queue
        self._tenants = tenants

    def _workflows(self, location_id: str) -> dict[str, Workflow]:
        try:
            return for_location(self._tenants.profile(location_id).workflows)
        except WorkflowError:
            return builtin()  # the engine logs the problems

    def fire(
        self,
        key: LeadKey,
        event: str,
        cause: str,
        context: Mapping[str, str] | None = None,
        *,
        tag: str | None = None,
        rule: str | None = None,
    ) -> list[str]:
        """Queue a start of every workflow triggered by ``event`` (``cause`` names this
        occurrence: the same cause never starts a workflow twice). Returns their names."""
        started = []
        for workflow in self._workflows(key.location_id).values():
            trigger = workflow.trigger
            if trigger is None or trigger.event != event:
                continue
            if trigger.tag is not None and (tag or "").lower() != trigger.tag.lower():
                continue
            if trigger.rule is not None and rule != trigger.rule:
                continue
            job = WorkflowStartJob(
                id=f"{event}:{cause}",
                received_at=utcnow(),
                location_id=key.location_id,
                contact_id=key.contact_id,
                workflow=workflow.name,
                trigger=event,
                context=dict(context or {}),
            )
            self._queue.send(job.model_dump_json())
            started.append(workflow.name)
        if started:
            logger.info(
                "workflows triggered",
                extra={"location_id": key.location_id, "event": event, "workflows": started},
            )
        return started

    def replied(self, key: LeadKey) -> None:
        """The lead wrote: its stop-on-reply runs end now."""
        job = WorkflowReplyJob(location_id=key.location_id, contact_id=key.contact_id)
        self._queue.send(job.model_dump_json())
