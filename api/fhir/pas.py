"""PAS operations: ``Claim/$submit`` (new requests and claim updates) and ``Claim/$inquire``.

A submission is validated (``bundle``) and mapped (``mapping``) before anything is
started; a refusal is an OperationOutcome naming the element. Then:

- a claim for a service no policy covers starts nothing and is answered CT;
- a new Blincyto claim starts the case ``pa-<Claim.identifier>``, or finds it: the
  same identifier again answers with the same case (idempotent); its submitter, the
  requesting organization's identifiers and the Claim's context are kept first
  (``fhir_claims``), for the subscription notifications of its decision;
- a claim update (``Claim.related`` naming the prior Claim) acts on the prior claim's
  case: the request or the drug's item cancelled -> withdraw; new facts (a
  QuestionnaireResponse, Observations) for a pended case -> provide_info;
- ``$inquire`` answers the case as it stands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog

from api.errors import ApiError
from api.fhir import door
from cases.client import CaseClient
from interop.fhir.bundle import CLAIM, ParsedBundle, parse_bundle
from interop.fhir.claim_response import (
    CaseAnswer,
    ClaimContext,
    claim_response,
    response_bundle,
    urn,
)
from interop.fhir.mapping import Mapped, map_bundle
from interop.fhir.outcome import FhirError, Issue
from interop.fhir.subscription import context_dict

log = structlog.get_logger("api.fhir")

_ISSUE_CODES = {404: "not-found", 409: "conflict", 422: "invalid", 504: "timeout"}


def gateway_error(exc: ApiError, where: str = CLAIM) -> FhirError:
    """A case refusal (404, 409, 5xx) as an OperationOutcome; the message names no PHI."""
    status = 400 if exc.status_code == 422 else exc.status_code
    issues = [Issue(where, exc.message, _ISSUE_CODES.get(exc.status_code, "exception"))]
    issues += [Issue(f"{where}:{e.field}", e.message) for e in exc.errors]
    return FhirError(issues, status)


def context_of(parsed: ParsedBundle, mapped: Mapped | None) -> ClaimContext:
    claim = parsed.claim
    ident = claim.identifier[0]
    full_url = next((e.fullUrl for e in parsed.bundle.entry if e.resource is claim), None)
    return ClaimContext(
        identifier_system=ident.system,
        identifier_value=ident.value,
        claim_reference=full_url,
        patient=claim.patient.reference if claim.patient else None,
        insurer=claim.insurer.reference if claim.insurer else None,
        provider=claim.provider.reference if claim.provider else None,
        claim_type=claim.type.model_dump(mode="json", exclude_none=True) if claim.type else None,
        item_sequences=[i.sequence for i in claim.item or []] or [1],
        drug_sequence=mapped.item_sequence if mapped and mapped.covered else None,
        asked_units=mapped.asked_units if mapped else None,
        asked_end=mapped.asked_end if mapped else None,
    )


def provider_identifiers(parsed: ParsedBundle) -> list[str]:
    """The requesting provider's identifiers (``Claim.provider``): what a subscription's
    ``orgIdentifier`` filter names."""
    ref = parsed.claim.provider.reference if parsed.claim.provider else None
    res = parsed.resolve(ref)
    return sorted({i.value for i in getattr(res, "identifier", None) or [] if i.value})


def answer(
    parsed: ParsedBundle, ctx: ClaimContext, case: CaseAnswer | None, *, inquiry: bool = False
) -> dict[str, Any]:
    """The response Bundle: the ClaimResponse, the resources it references, the
    CommunicationRequest for missing facts."""
    response, comm = claim_response(ctx, case)
    extra: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for ref in (ctx.patient, ctx.insurer, ctx.provider):
        res = parsed.resolve(ref)
        if res is None:
            continue
        entry = next(e for e in parsed.bundle.entry if e.resource is res)
        if entry.fullUrl in seen:
            continue
        seen.add(entry.fullUrl)
        extra.append((entry.fullUrl, res.model_dump(mode="json", exclude_none=True)))
    if comm is not None:
        extra.append((urn(comm["id"]), comm))
    return response_bundle(response, extra, inquiry=inquiry)


async def submit(
    data: Any, cases: CaseClient, pool: asyncpg.Pool, subject: str, audit: Any
) -> dict[str, Any]:
    parsed = parse_bundle(data)
    mapped = map_bundle(parsed, datetime.now(UTC))
    ctx = context_of(parsed, mapped)
    if not mapped.covered:
        log.info("fhir claim for a service no policy covers", subject=subject)
        return answer(parsed, ctx, None)
    try:
        if mapped.prior_identifier is not None or mapped.cancelled:
            case = await _update(mapped, cases, pool, subject, audit)
        else:
            assert mapped.request is not None
            case_id = door.case_id_for(mapped.request.request_id)
            if audit is not None:
                audit.case_id = case_id
            # Before the case starts, so its first decision finds it (subscriptions).
            await door.remember_claim(
                pool, case_id, subject, provider_identifiers(parsed), context_dict(ctx)
            )
            result = await door.submit(cases, mapped.request, subject)
            log.info("fhir claim submitted", case=case_id, created=result.created, subject=subject)
            case = await door.case_answer(cases, pool, case_id)
    except ApiError as exc:
        raise gateway_error(exc) from None
    return answer(parsed, ctx, case)


async def _update(
    mapped: Mapped, cases: CaseClient, pool: asyncpg.Pool, subject: str, audit: Any
) -> CaseAnswer:
    where = f"{CLAIM}.related[0].claim" if mapped.prior_identifier else f"{CLAIM}.identifier[0]"
    case_id = door.case_id_for(mapped.prior_identifier or mapped.identifier)
    if audit is not None:
        audit.case_id = case_id
    try:
        case = await door.case_answer(cases, pool, case_id)
    except ApiError as exc:
        if exc.status_code == 404:
            raise FhirError(
                [Issue(where, "no prior authorization request has this identifier", "not-found")],
                404,
            ) from None
        raise
    if mapped.cancelled:
        outcome = await door.withdraw(cases, case_id, "cancelled by a PAS claim update", subject)
        log.info("fhir claim cancelled", case=case_id, accepted=outcome.accepted, subject=subject)
        if not outcome.accepted:
            raise FhirError(
                [Issue(CLAIM, outcome.reason or "the case cannot be cancelled now", "conflict")],
                409,
            )
        return await door.case_answer(cases, pool, case_id)
    if mapped.facts:
        if case.status != "pended":
            raise FhirError(
                [
                    Issue(
                        CLAIM,
                        f"the case is {case.status}: it takes new facts only while pended",
                        "conflict",
                    )
                ],
                409,
            )
        provided = await door.provide_info(cases, case_id, mapped.facts, subject)
        log.info("fhir facts provided", case=case_id, accepted=provided.accepted, subject=subject)
        if not provided.accepted:
            raise FhirError([Issue(CLAIM, provided.reason or "refused", "conflict")], 409)
        return await door.case_answer(cases, pool, case_id)
    return case


async def inquire(
    data: Any, cases: CaseClient, pool: asyncpg.Pool, subject: str, audit: Any
) -> dict[str, Any]:
    parsed = parse_bundle(data, inquiry=True)
    mapped = _inquiry_mapping(parsed)
    ctx = context_of(parsed, mapped)
    if not mapped.covered:
        return answer(parsed, ctx, None, inquiry=True)
    case_id = door.case_id_for(mapped.identifier)
    if audit is not None:
        audit.case_id = case_id
    try:
        case = await door.case_answer(cases, pool, case_id)
    except ApiError as exc:
        if exc.status_code == 404:
            raise FhirError(
                [
                    Issue(
                        f"{CLAIM}.identifier[0]",
                        "no prior authorization request has this identifier",
                        "not-found",
                    )
                ],
                404,
            ) from None
        raise gateway_error(exc) from None
    log.info("fhir inquiry", case=case_id, status=case.status, subject=subject)
    return answer(parsed, ctx, case, inquiry=True)


def _inquiry_mapping(parsed: ParsedBundle) -> Mapped:
    """An inquiry names the claim and its items; only the drug item matters here."""
    from interop.fhir.mapping import claim_identifier, drug_item

    found = drug_item(parsed)
    mapped = Mapped(identifier=claim_identifier(parsed), covered=found is not None)
    if found is not None:
        mapped.item_index = found[0]
        mapped.item_sequence = parsed.claim.item[found[0]].sequence
    return mapped
