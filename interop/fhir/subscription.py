"""FHIR Subscriptions, R4 backport, on the PAS topic (FHIR.md; PAS 2.2.1 "Subscription").

Pure: no I/O. ``accept`` checks a ``POST /fhir/Subscription`` body against the PAS
Subscription profile (``profile-subscription``, on the backport's): ``criteria`` = the
PAS topic's canonical URL, its ``_criteria`` ``backport-filter-criteria`` extensions
``orgIdentifier=<id>[,<id>…]`` (the requesting provider organization; PAS spec-64 says
``org-identifier``, the topic's ``canFilterBy`` says ``orgIdentifier``: both are read),
``channel.type`` ``rest-hook`` with an http(s) ``endpoint`` (https outside dev and test),
``channel.payload`` ``application/fhir+json`` with ``backport-payload-content``
``full-resource``. Anything else is a :class:`FhirError` naming the element.

``case_answer`` reads the case's answer from the prescriber's decision notice (the
outbox payload the workflow wrote), and ``notification`` builds the R4 backport
notification Bundle (``history``): the SubscriptionStatus Parameters first
(``backport-subscription-status-r4``: subscription, topic, status, type
``event-notification``, ``events-since-subscription-start``, one ``notification-event``
whose ``focus`` is the next entry), then the focus: a PAS response Bundle with the
case's ClaimResponse first (PAS: "this notification will include a full PAS Response
Bundle"; the IG's ``PASSubscriptionNotification`` example), built by the same
``claim_response`` builder as ``$submit`` and ``$inquire``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from interop.fhir import codes
from interop.fhir.claim_response import (
    CaseAnswer,
    ClaimContext,
    claim_response,
    response_bundle,
    urn,
)
from interop.fhir.outcome import FhirError, Issue, invalid, model_issues

TOPIC = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic"
BACKPORT_SD = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"
EXT_FILTER = f"{BACKPORT_SD}/backport-filter-criteria"
EXT_PAYLOAD_CONTENT = f"{BACKPORT_SD}/backport-payload-content"
PROFILE_SUBSCRIPTION = f"{codes.PAS_SD}/profile-subscription"
PROFILE_STATUS = f"{BACKPORT_SD}/backport-subscription-status-r4"
PROFILE_NOTIFICATION = f"{BACKPORT_SD}/backport-subscription-notification-r4"
FILTER_NAMES = ("orgIdentifier", "org-identifier")
MAX_HEADERS = 10
MAX_IDENTIFIERS = 20

#: The prescriber's notice kinds that are a decision, and the case status each means.
DECISION_KINDS = {"approval": "active", "denial": "denied", "not_applicable": "not_applicable"}
#: The notice kinds that mean the case waited (pended for facts, or in clinical review).
WAITING_KINDS = ("pend", "review_assignment")

S = "Subscription"


@dataclass
class Accepted:
    """A Subscription we take: what matching and delivery need, and the resource to answer."""

    id: str
    org_identifiers: list[str]
    endpoint: str
    headers: list[str]
    ends_at: datetime | None
    resource: dict[str, Any] = field(default_factory=dict)


def accept(data: Any, *, allow_http: bool) -> Accepted:
    """A POST body -> :class:`Accepted`, or a :class:`FhirError` naming the element."""
    from fhir.resources.R4B.subscription import Subscription

    if not isinstance(data, dict) or data.get("resourceType") != S:
        raise invalid("resourceType", "this endpoint takes a Subscription", "not-supported")
    try:
        model = Subscription.model_validate(data)
    except ValidationError as exc:
        raise FhirError(model_issues(S, exc.errors())) from None
    issues: list[Issue] = []
    if model.criteria != TOPIC:
        issues.append(Issue(f"{S}.criteria", f"must be the PAS topic {TOPIC}", "value"))
    orgs = _org_identifiers(model, issues)
    channel = model.channel
    if channel.type != "rest-hook":
        issues.append(Issue(f"{S}.channel.type", "only rest-hook is supported", "not-supported"))
    endpoint = str(channel.endpoint or "")
    parts = urlsplit(endpoint)
    schemes = ("https", "http") if allow_http else ("https",)
    if not endpoint:
        issues.append(Issue(f"{S}.channel.endpoint", "is required for rest-hook", "required"))
    elif parts.scheme.lower() not in schemes or not parts.netloc:
        issues.append(
            Issue(f"{S}.channel.endpoint", f"must be an absolute {' or '.join(schemes)} URL")
        )
    if channel.payload != codes.FHIR_JSON:
        issues.append(Issue(f"{S}.channel.payload", f"must be {codes.FHIR_JSON}", "value"))
    content = [
        e.valueCode
        for e in (channel.payload__ext.extension if channel.payload__ext else None) or []
        if e.url == EXT_PAYLOAD_CONTENT
    ]
    if content != ["full-resource"]:
        issues.append(
            Issue(
                f"{S}.channel.payload.extension",
                f"needs one {EXT_PAYLOAD_CONTENT} extension with valueCode full-resource",
                "value",
            )
        )
    headers = [str(h) for h in channel.header or [] if h is not None]
    if len(headers) > MAX_HEADERS:
        issues.append(Issue(f"{S}.channel.header", f"at most {MAX_HEADERS} headers"))
    for i, header in enumerate(headers):
        name, sep, _ = header.partition(":")
        if not sep or not name.strip() or not name.strip().replace("-", "").isalnum():
            issues.append(Issue(f"{S}.channel.header[{i}]", "must be 'Name: value'"))
    if issues:
        raise FhirError(issues)
    ends_at = None
    if model.end is not None:
        ends_at = model.end if model.end.tzinfo else model.end.replace(tzinfo=UTC)
    sub_id = uuid.uuid4().hex
    resource = model.model_dump(mode="json", exclude_none=True)
    resource.pop("text", None)
    resource["channel"].pop("header", None)  # kept for delivery, never shown back
    resource.update(id=sub_id, status="active", meta={"profile": [PROFILE_SUBSCRIPTION]})
    return Accepted(
        id=sub_id,
        org_identifiers=orgs,
        endpoint=endpoint,
        headers=headers,
        ends_at=ends_at,
        resource=resource,
    )


def _org_identifiers(model: Any, issues: list[Issue]) -> list[str]:
    where = f"{S}.criteria.extension"
    ext = model.criteria__ext.extension if model.criteria__ext else None
    filters = [(i, e) for i, e in enumerate(ext or []) if e.url == EXT_FILTER]
    if not filters:
        issues.append(
            Issue(where, f"needs a {EXT_FILTER} extension 'orgIdentifier=<id>'", "required")
        )
        return []
    orgs: list[str] = []
    for i, e in filters:
        name, sep, values = (e.valueString or "").partition("=")
        ids = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or name.strip() not in FILTER_NAMES or not ids:
            issues.append(Issue(f"{where}[{i}].valueString", "must be 'orgIdentifier=<id>[,…]'"))
            continue
        orgs.extend(ids)
    if len(orgs) > MAX_IDENTIFIERS:
        issues.append(Issue(where, f"at most {MAX_IDENTIFIERS} organization identifiers"))
    return sorted(set(orgs))


# -- the claim's context, kept at $submit (fhir_claims.context) -------------------------


def context_dict(ctx: ClaimContext) -> dict[str, Any]:
    body = asdict(ctx)
    body["asked_end"] = ctx.asked_end.isoformat() if ctx.asked_end else None
    return body


def context_from(data: Any) -> ClaimContext:
    body = dict(json.loads(data) if isinstance(data, str) else data)
    if body.get("asked_end"):
        body["asked_end"] = date.fromisoformat(body["asked_end"])
    return ClaimContext(**body)


# -- the case's answer at its decision, from the prescriber's notice ---------------------


def case_answer(
    case_id: str, kind: str, payload: dict[str, Any], usual_units: int | None
) -> CaseAnswer:
    """The case as its decision left it, from the decision notice's payload
    (activities/notice_text.py lists the keys per kind)."""
    status = DECISION_KINDS[kind]
    reasons = [r for r in payload.get("reasons") or [] if isinstance(r, dict)]
    answer = CaseAnswer(case_id=case_id, status=status, reasons=reasons, usual_units=usual_units)
    if kind == "approval":
        answer.determination = "approve"
        answer.track = payload.get("track")
        answer.period_start = _date(payload.get("period_start"))
        answer.period_end = _date(payload.get("period_end"))
        answer.authorized_units = payload.get("authorized_units")
    elif kind == "denial":
        answer.determination = "deny"
        deadline = _date(payload.get("appeal_deadline"))
        if deadline is not None:
            answer.appeal_deadline = datetime.combine(deadline, time(), tzinfo=UTC)
    else:
        mac = payload.get("medicare") or {}
        text = "; ".join(str(r.get("text", "")) for r in reasons) or "not applicable"
        if mac:
            text += (
                f". Contact the Medicare Administrative Contractor: {mac.get('contractor')} "
                f"(jurisdiction {mac.get('jurisdiction')})."
            )
        answer.reason = text
    return answer


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


# -- the notification ---------------------------------------------------------------------


def notification(
    subscription_id: str,
    event_number: int,
    ctx: ClaimContext,
    case: CaseAnswer,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The backport's full-resource event notification (a ``history`` Bundle)."""
    from fhir.resources.R4B.bundle import Bundle

    now = now or datetime.now(UTC)
    response, comm = claim_response(ctx, case, now=now)
    extra = [(urn(comm["id"]), comm)] if comm is not None else []
    focus = response_bundle(response, extra, now=now)
    focus["id"] = uuid.uuid4().hex
    focus_url = urn(focus["id"])
    status_id = uuid.uuid4().hex
    status = {
        "resourceType": "Parameters",
        "id": status_id,
        "meta": {"profile": [PROFILE_STATUS]},
        "parameter": [
            {
                "name": "subscription",
                "valueReference": {"reference": f"Subscription/{subscription_id}"},
            },
            {"name": "topic", "valueCanonical": TOPIC},
            {"name": "status", "valueCode": "active"},
            {"name": "type", "valueCode": "event-notification"},
            {"name": "events-since-subscription-start", "valueString": str(event_number)},
            {
                "name": "notification-event",
                "part": [
                    {"name": "event-number", "valueString": str(event_number)},
                    {"name": "timestamp", "valueInstant": now.isoformat()},
                    {"name": "focus", "valueReference": {"reference": focus_url}},
                ],
            },
        ],
    }
    body = {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "meta": {"profile": [PROFILE_NOTIFICATION]},
        "type": "history",
        "timestamp": now.isoformat(),
        "entry": [
            {
                "fullUrl": urn(status_id),
                "resource": status,
                "request": {"method": "GET", "url": f"Subscription/{subscription_id}/$status"},
                "response": {"status": "200"},
            },
            {
                "fullUrl": focus_url,
                "resource": focus,
                "request": {"method": "PUT", "url": f"Bundle/{focus['id']}"},
                "response": {"status": "200"},
            },
        ],
    }
    return Bundle.model_validate(body).model_dump(mode="json", exclude_none=True)
