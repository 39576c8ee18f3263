"""The FHIR routes: ``/fhir/...`` (PAS, DTR, Subscription, metadata) and ``/cds-services``
(CRD). Bodies are FHIR JSON; answers ``application/fhir+json``; every refusal of the
input is an OperationOutcome (400, naming the element) and starts nothing. Auth as for
the JSON API (``intake`` submits, inquires, subscribes and calls the CRD services);
the CapabilityStatement and the CDS Hooks discovery are open, as FHIR and CDS Hooks
clients expect. Every call under ``/fhir`` and ``/cds-services`` is in the access audit.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from api import deps
from api.audit import audit_record
from api.auth import READERS, Principal, Role, require
from api.fhir import door, pas
from api.fhir.responses import error_response, fhir_response
from cases.client import CaseClient
from domain.policy import Policy
from domain.policy_registry import PolicyRegistry
from infra.member_ref import member_ref
from infra.settings import Settings
from interop.fhir import crd, questionnaire, subscription
from interop.fhir.capability import capability_statement
from interop.fhir.fact_catalog import catalog_for
from interop.fhir.outcome import FhirError, Issue, invalid

log = structlog.get_logger("api.fhir")

router = APIRouter(prefix="/fhir", tags=["fhir"], include_in_schema=False)


async def read_json(request: Request, what: str = "Bundle") -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise invalid(what, "the body is not JSON", "structure") from None


@router.get("/metadata")
async def fhir_metadata(policies: PolicyRegistry = Depends(deps.policies)) -> JSONResponse:
    """The CapabilityStatement (open, as FHIR clients read it before they authenticate)."""
    return fhir_response(capability_statement(policies.policies))


@router.post("/Claim/$submit")
async def fhir_submit(
    http: Request,
    who: Principal = Depends(require(Role.INTAKE)),
    cases: CaseClient = Depends(deps.cases),
    pool: asyncpg.Pool = Depends(deps.db),
) -> JSONResponse:
    """PAS ``$submit``: a PAS request Bundle -> a PAS response Bundle, ClaimResponse first."""
    try:
        data = await read_json(http)
        body = await pas.submit(data, cases, pool, who.subject, audit_record(http))
    except FhirError as exc:
        return error_response(exc)
    return fhir_response(body)


@router.post("/Claim/$inquire")
async def fhir_inquire(
    http: Request,
    who: Principal = Depends(require(Role.INTAKE)),
    cases: CaseClient = Depends(deps.cases),
    pool: asyncpg.Pool = Depends(deps.db),
) -> JSONResponse:
    """PAS ``$inquire``: the case's current ClaimResponse."""
    try:
        data = await read_json(http)
        body = await pas.inquire(data, cases, pool, who.subject, audit_record(http))
    except FhirError as exc:
        return error_response(exc)
    return fhir_response(body)


@router.post("/Questionnaire/$questionnaire-package")
async def fhir_questionnaire_package(
    http: Request,
    _: Principal = Depends(require(Role.INTAKE, *READERS)),
    policies: PolicyRegistry = Depends(deps.policies),
) -> JSONResponse:
    """DTR: the Questionnaire of the drug the ``order`` parameters ask for (each one's
    policy in effect today), generated from the policy data, in a package Bundle; without
    an order, the Questionnaire of every drug the registry covers."""
    try:
        data = await read_json(http)
        if not isinstance(data, dict) or data.get("resourceType") != "Parameters":
            raise invalid("resourceType", "this operation takes Parameters", "not-supported")
        asked, unknown = questionnaire.drugs_asked(data)
        if unknown:
            raise FhirError(
                [
                    Issue(where, "orders no drug our policies cover", "not-supported")
                    for where in unknown
                ]
            )
    except FhirError as exc:
        return error_response(exc)
    today = datetime.now(UTC).date()
    served: dict[str, Policy] = {}
    for hcpcs in asked or list(policies.hcpcs):
        policy = policies.for_drug(hcpcs, today)
        served.setdefault(policy.ref, policy)
    return fhir_response(questionnaire.package(catalog_for(p) for p in served.values()))


@router.post("/Subscription")
async def fhir_subscription_create(
    http: Request,
    who: Principal = Depends(require(Role.INTAKE)),
    pool: asyncpg.Pool = Depends(deps.db),
    settings: Settings = Depends(deps.settings),
) -> JSONResponse:
    """An R4 backport Subscription on the PAS topic (rest-hook, full-resource): 201 with
    the Subscription, active at once; it matches the caller's own submissions only."""
    try:
        data = await read_json(http, "Subscription")
        sub = subscription.accept(data, allow_http=settings.is_dev)
    except FhirError as exc:
        return error_response(exc)
    await door.create_subscription(
        pool,
        who.subject,
        sub.id,
        sub.org_identifiers,
        sub.endpoint,
        sub.headers,
        sub.ends_at,
        sub.resource,
    )
    log.info("fhir subscription created", subscription=sub.id, subject=who.subject)
    response = fhir_response(sub.resource, 201)
    response.headers["Location"] = f"{http.url.path}/{sub.id}"
    return response


@router.get("/Subscription/{subscription_id}")
async def fhir_subscription_read(
    subscription_id: str,
    who: Principal = Depends(require(Role.INTAKE)),
    pool: asyncpg.Pool = Depends(deps.db),
) -> JSONResponse:
    """The caller's Subscription (another caller's is not found)."""
    found = await door.subscription(pool, who.subject, subscription_id)
    if found is None:
        return _no_subscription()
    return fhir_response(found)


@router.delete("/Subscription/{subscription_id}")
async def fhir_subscription_delete(
    subscription_id: str,
    who: Principal = Depends(require(Role.INTAKE)),
    pool: asyncpg.Pool = Depends(deps.db),
) -> Response:
    """The caller's Subscription is turned off (kept; nothing more is sent to it)."""
    if not await door.turn_off_subscription(pool, who.subject, subscription_id):
        return _no_subscription()
    log.info("fhir subscription off", subscription=subscription_id, subject=who.subject)
    return Response(status_code=204)


def _no_subscription() -> JSONResponse:
    return error_response(
        FhirError([Issue("Subscription.id", "no such subscription", "not-found")], 404)
    )


cds = APIRouter(prefix="/cds-services", tags=["cds hooks"], include_in_schema=False)


@cds.get("")
async def cds_discovery() -> JSONResponse:
    """CDS Hooks discovery (open, as CDS clients read it)."""
    return JSONResponse(crd.discovery())


@cds.post("/{service_id}")
async def cds_service(
    service_id: str,
    http: Request,
    _: Principal = Depends(require(Role.INTAKE)),
    pool: asyncpg.Pool = Depends(deps.db),
    settings: Settings = Depends(deps.settings),
    policies: PolicyRegistry = Depends(deps.policies),
) -> JSONResponse:
    """CRD ``order-sign`` / ``order-select``: coverage information for orders of any drug
    the policy registry covers."""
    if service_id not in {s["id"] for s in crd.discovery()["services"]}:
        return error_response(
            FhirError([Issue("service", "no such CDS service", "not-found")], 404)
        )
    try:
        body = await read_json(http)
        if not isinstance(body, dict):
            raise invalid("body", "a CDS Hooks request is a JSON object", "structure")
        orders = crd.covered_orders(body)
        dated = [(order, hcpcs, crd.order_date(order)) for order, hcpcs in orders]
    except FhirError as exc:
        return error_response(exc)
    cards, actions = [], []
    member = crd.member_id(body)
    for order, hcpcs, day in dated:
        policy = policies.for_drug(hcpcs)
        authorization = None
        if member is not None:
            ref = member_ref(member, settings.member_ref_key)
            authorization = await door.active_authorization(pool, ref, day, policy.id)
        card, action = crd.card(order, authorization, policy)
        cards.append(card)
        actions.append(action)
    return JSONResponse({"cards": cards, "systemActions": actions})


def routers() -> list[APIRouter]:
    """Every router of the FHIR door, for ``api.app.create_app``."""
    return [router, cds]
