"""What Temporal keeps or serves for a case, read raw: as a client WITHOUT the codec gets it.

For the tests that look for plaintext PHI (tests/integration/test_history_has_no_phi.py,
tests/e2e/test_dev_stack.py): every history event, the description (memo, search
attributes, static summary and details, pending activities), the visibility record
and the queries the UI makes, as protobuf messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.query.v1 import WorkflowQuery
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    GetWorkflowExecutionHistoryRequest,
    ListWorkflowExecutionsRequest,
    QueryWorkflowRequest,
)
from temporalio.client import Client

NAMESPACE = "default"
#: The UI's metadata query (current details) and the case's own queries.
QUERIES = ("__temporal_workflow_metadata", "status", "history")


def payloads(message: Message, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Payload]]:
    """Every Payload inside ``message`` (any depth, maps and lists too), with its field path."""
    if isinstance(message, Payload):
        yield ".".join(path), message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            children = [(f"{field.name}[{k}]", v) for k, v in value.items()]
        elif isinstance(value, Message):
            children = [(field.name, value)]
        else:
            children = [(f"{field.name}[{i}]", v) for i, v in enumerate(value)]
        for name, child in children:
            if isinstance(child, Message):
                yield from payloads(child, (*path, name))


async def raw_case(
    plain: Client, workflow_id: str, run_id: str = "", *, queries: bool = True
) -> list[Message]:
    """Everything the server keeps or serves for the case (its latest run, or ``run_id``),
    as a codec-less client gets it; ``queries`` also asks the running worker the QUERIES."""
    service = plain.workflow_service
    execution = WorkflowExecution(workflow_id=workflow_id, run_id=run_id)
    pages: list[Message] = []
    token = b""
    while True:
        page = await service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace=NAMESPACE, execution=execution, next_page_token=token
            )
        )
        pages.append(page)
        token = page.next_page_token
        if not token:
            break
    description = await service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=NAMESPACE, execution=execution)
    )
    listing = None
    by_id = ListWorkflowExecutionsRequest(
        namespace=NAMESPACE, query=f"WorkflowId = '{workflow_id}'"
    )
    for _ in range(100):
        listing = await service.list_workflow_executions(by_id)
        if listing.executions:
            break
        await asyncio.sleep(0.1)
    assert listing is not None and listing.executions, "the case never showed in visibility"
    answers = [
        await service.query_workflow(
            QueryWorkflowRequest(
                namespace=NAMESPACE, execution=execution, query=WorkflowQuery(query_type=name)
            )
        )
        for name in (QUERIES if queries else ())
    ]
    return [*pages, description, listing, *answers]
