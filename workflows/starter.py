"""Starting a case: the one way the API, the CLI and the tests start AuthorizationWorkflow.

DESIGN.md, How data flows, step 2: workflow id ``pa-<request_id>``; starting
twice with the same id is a no-op that returns the existing case (idempotent
intake). The case carries its policy, ``policy_id@version``, chosen from the
policy registry by the request's drug (``service.hcpcs``). It starts searchable
(MemberRef, AuthStatus=received) and readable in the UI (static summary and
details naming the policy's drug, no PHI).
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain import policy_registry
from domain.policy_registry import PolicyRegistry
from domain.request import PARequest
from infra.member_ref import member_ref as member_ref_of
from infra.temporal import AUTH_STATUS, MEMBER_REF
from workflows import ui
from workflows.authorization import AuthorizationWorkflow
from workflows.messages import CaseConfig, CaseInput, CaseResult


def case_workflow_id(request_id: str) -> str:
    return f"pa-{request_id}"


@dataclass(frozen=True)
class StartedCase:
    """The case's handle, its id, and whether this call started it (False: it existed)."""

    handle: WorkflowHandle[AuthorizationWorkflow, CaseResult]
    case_id: str
    created: bool


async def start_case(
    client: Client,
    request: PARequest,
    config: CaseConfig,
    task_queue: str,
    *,
    member_ref: str | None = None,
    member_ref_key: str | None = None,
    submitted_by: str | None = None,
    policies: PolicyRegistry | None = None,
) -> StartedCase:
    """Start the case for ``request``, or return the one already started under its id.

    ``member_ref`` is the member's keyed hash; without it, it is computed with
    ``member_ref_key`` (default: the deployment's key from Settings).
    ``submitted_by`` is who submits it (the API: the credential's subject).
    ``policies``: the registry the request's drug is looked up in (default: the
    process's, ``domain/policies/``): the version in effect on the day of receipt; a drug
    none covers raises ``UnknownDrug``, a day after its last version's stated end
    ``NoVersionInEffect``.
    ``config`` should be ``case_config(settings, <that policy>)``: its clocks.
    """
    policy = (policies or policy_registry.default_registry()).for_drug(
        request.service.hcpcs or "", request.received_at.date()
    )
    if member_ref is None:
        if member_ref_key is None:
            from infra.settings import get_settings

            member_ref_key = get_settings().member_ref_key
        member_ref = member_ref_of(request.member.member_id, member_ref_key)
    workflow_id = case_workflow_id(request.request_id)
    try:
        handle = await client.start_workflow(
            AuthorizationWorkflow.run,
            CaseInput(
                request=request,
                member_ref=member_ref,
                config=config,
                submitted_by=submitted_by,
                policy_ref=policy.ref,
            ),
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(MEMBER_REF, member_ref),
                    SearchAttributePair(AUTH_STATUS, "received"),
                ]
            ),
            static_summary=ui.static_summary(request, policy),
            static_details=ui.static_details(request, member_ref, policy),
        )
    except WorkflowAlreadyStartedError:
        existing = client.get_workflow_handle_for(AuthorizationWorkflow.run, workflow_id)
        return StartedCase(handle=existing, case_id=workflow_id, created=False)
    return StartedCase(handle=handle, case_id=workflow_id, created=True)


async def case_histories(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of a case, first to last (continue-as-new chains runs), for replay and size."""
    histories: list[WorkflowHistory] = []
    run_id: str | None = None  # the latest run first, then back along the chain
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
        if run_id is None:
            return histories[::-1]
