"""The FHIR routes: ``/fhir/...`` (PAS, DTR, Subscription, metadata) and ``/cds-services``
(CRD). Bodies are FHIR JSON; answers ``application/fhir+json``; every refusal of the
input is an OperationOutcome (400, naming the element) and starts nothing. Auth as for
the JSON API (``intake`` submits, inquires, subscribes and calls the CRD services);
the CapabilityStatement and the CDS Hooks discovery are open, as FHIR and CDS Hooks
clients expect. Every call under ``/fhir`` and ``/cds-services`` is in the access audit.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client

from api import deps
from api.audit import audit_record
from api.auth import Principal, Role, require
from api.fhir import pas
from api.fhir.capability import capability_statement
from api.fhir.outcome import FhirError, error_response, fhir_response, invalid
from infra.settings import Settings

router = APIRouter(prefix="/fhir", tags=["fhir"])


async def read_json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise invalid("Bundle", "the body is not JSON", "structure") from None


@router.get("/metadata")
async def fhir_metadata() -> JSONResponse:
    """The CapabilityStatement (open, as FHIR clients read it before they authenticate)."""
    return fhir_response(capability_statement())


@router.post("/Claim/$submit")
async def fhir_submit(
    http: Request,
    who: Principal = Depends(require(Role.INTAKE)),
    client: Client = Depends(deps.temporal),
    pool: asyncpg.Pool = Depends(deps.db),
    settings: Settings = Depends(deps.settings),
) -> JSONResponse:
    """PAS ``$submit``: a PAS request Bundle -> a PAS response Bundle, ClaimResponse first."""
    try:
        data = await read_json(http)
        body = await pas.submit(data, client, pool, settings, who.subject, audit_record(http))
    except FhirError as exc:
        return error_response(exc)
    return fhir_response(body)


@router.post("/Claim/$inquire")
async def fhir_inquire(
    http: Request,
    who: Principal = Depends(require(Role.INTAKE)),
    client: Client = Depends(deps.temporal),
    pool: asyncpg.Pool = Depends(deps.db),
) -> JSONResponse:
    """PAS ``$inquire``: the case's current ClaimResponse."""
    try:
        data = await read_json(http)
        body = await pas.inquire(data, client, pool, who.subject, audit_record(http))
    except FhirError as exc:
        return error_response(exc)
    return fhir_response(body)


def routers() -> list[APIRouter]:
    """Every router of the FHIR door, for ``api.app.create_app``."""
    return [router]
