"""The reviewer workbench's pages and forms, served by the API under ``/workbench``.

- ``GET  /workbench``                        the review queue (reviewer, read-only, admin)
- ``GET  /workbench/cases/{case_id}``        a case (PHI for reviewer and admin only)
- ``POST /workbench/cases/{case_id}/decision`` decide the open review (reviewer, admin)
- ``GET  /workbench/login``, ``POST /workbench/login``, ``POST /workbench/logout``

Every page but the login form needs a session (api/workbench/session.py); a
GET without one goes to the login form, a POST without one is a 401. Every
POST must carry the session's CSRF token (403 otherwise), checked before
anything else is read or changed. Who decides is the session's subject, never
a form field (a form naming anything but what the reviewer states is a 422).
A decision goes through ``api.routes_actions.review_decision``, the one path
of ``POST /cases/{id}/review``: one workflow update, one decision row, one
notice. Every request is in the access audit (api/audit.py), the cases a
queue showed and the case a page showed included.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from api import deps, routes_actions
from api.audit import audit_record
from api.bodies import ReviewBody, ReviewExtensionBody
from api.errors import ApiError, case_error
from api.identity import Authenticator, CredentialError, IdentityProviderUnavailable
from api.workbench import case_page, queue
from api.workbench.session import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    LOGIN_PATH,
    SESSION_COOKIE,
    Session,
    WorkbenchSessions,
    clear_cookie,
    csrf_matches,
    may_decide,
    may_use,
    new_token,
    secure_cookie,
    sees_phi,
    set_login_cookie,
    set_session_cookie,
)
from cases.errors import CaseError
from domain.review_extension import MAX_EXTENSION_DAYS
from infra.settings import Settings

log = structlog.get_logger("api.workbench")


def as_api_error(err: ApiError | CaseError) -> ApiError:
    """The API's answer to a failure: the case client's errors mapped as the API maps them."""
    return case_error(err) if isinstance(err, CaseError) else err


TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

#: Pages hold PHI: nothing cached, nothing framed, nothing loaded from elsewhere, no script.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

DETERMINATIONS = ("approve", "deny", "pend")
DECISION_FIELDS = frozenset(
    {
        "csrf_token",
        "determination",
        "rationale",
        "track",
        "period_end",
        "authorized_units",
        "missing_facts",
    }
)
EXTENSION_FIELDS = frozenset({"csrf_token", "days", "reason"})
#: What the decision form shows back after a refusal (never a hidden field).
SHOWN_FIELDS = (
    "determination",
    "rationale",
    "track",
    "period_end",
    "authorized_units",
    "missing_facts",
)
FACT_PATH = re.compile(r"[a-z_]{1,40}(\.[a-z0-9_]{1,60}){0,3}")
MAX_RATIONALE = 2000
MAX_TOKEN = 4096


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["facts"] = case_page.request_facts
TEMPLATES.env.filters["seen"] = case_page.seen_value
TEMPLATES.env.globals["time_left"] = queue.time_left


def _sessions(request: Request) -> WorkbenchSessions:
    sessions: WorkbenchSessions = request.app.state.workbench_sessions
    return sessions


def _dev(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.is_dev


async def _session(request: Request) -> Session | None:
    session = await _sessions(request).get(deps.db(request), request.cookies.get(SESSION_COOKIE))
    if session is not None:
        request.state.principal = session.principal
        record = audit_record(request)
        if record is not None:  # the access audit names the session's subject
            record.principal = session.principal
    return session


def page(
    request: Request,
    template: str,
    status_code: int = 200,
    session: Session | None = None,
    **context: Any,
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"session": session, "now": datetime.now(UTC), **context},
        status_code=status_code,
        headers=PAGE_HEADERS,
    )


def problem(
    request: Request, status_code: int, message: str, session: Session | None = None
) -> HTMLResponse:
    return page(request, "error.html", status_code, session, title="Not done", message=message)


def _to_login() -> RedirectResponse:
    return RedirectResponse(LOGIN_PATH, status_code=303)


def _case_url(case_id: str) -> str:
    return f"{COOKIE_PATH}/cases/{quote(case_id, safe='')}"


router = APIRouter(prefix="/workbench", include_in_schema=False)


@router.get("/login", name="workbench_login_form")
async def workbench_login_form(request: Request) -> Response:
    return _login_page(request)


def _login_page(request: Request, status_code: int = 200, message: str = "") -> Response:
    token = new_token()
    response = page(request, "login.html", status_code, csrf_token=token, message=message)
    set_login_cookie(response, token, secure=secure_cookie(request, _dev(request)))
    return response


@router.post("/login", name="workbench_login")
async def workbench_login(request: Request) -> Response:
    form = await request.form()
    if not csrf_matches(request.cookies.get(LOGIN_COOKIE), form.get("csrf_token")):
        return _login_page(request, 403, "The form had expired. Paste your token again.")
    token = form.get("token")
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
        return _login_page(request, 422, "Paste your API token or access token.")
    identities: Authenticator = request.app.state.identities
    try:
        who = await identities.authenticate(token.strip())
    except CredentialError:
        return _login_page(request, 401, "That token is not known, or has expired.")
    except IdentityProviderUnavailable:
        return _login_page(request, 503, "The identity provider did not answer; try again.")
    record = audit_record(request)
    if record is not None:
        record.principal = who
    if not may_use(who):
        roles = ", ".join(who.role_names) or "none"
        return _login_page(
            request, 403, f"Roles {roles} may not use the workbench (reviewer, read-only, admin)."
        )
    sessions = _sessions(request)
    await sessions.close(deps.db(request), request.cookies.get(SESSION_COOKIE))
    session_id, session = await sessions.open(deps.db(request), who)
    log.info("workbench session opened", subject=who.subject, roles=who.role_names)
    secure = secure_cookie(request, _dev(request))
    response = RedirectResponse(COOKIE_PATH, status_code=303)
    set_session_cookie(response, session_id, session, secure=secure)
    clear_cookie(response, LOGIN_COOKIE, LOGIN_PATH, secure=secure)
    return response


@router.post("/logout", name="workbench_logout")
async def workbench_logout(request: Request) -> Response:
    session = await _session(request)
    if session is None:
        return _to_login()
    form = await request.form()
    if not csrf_matches(session.csrf_token, form.get("csrf_token")):
        return problem(request, 403, "The form's security token is missing or stale.", session)
    await _sessions(request).close(deps.db(request), request.cookies.get(SESSION_COOKIE))
    log.info("workbench session ended", subject=session.principal.subject)
    response = _to_login()
    clear_cookie(
        response, SESSION_COOKIE, COOKIE_PATH, secure=secure_cookie(request, _dev(request))
    )
    return response


@router.get("", name="workbench_queue")
async def workbench_queue(request: Request) -> Response:
    session = await _session(request)
    if session is None:
        return _to_login()
    try:
        f = queue.QueueFilter.model_validate(dict(request.query_params))
    except ValidationError:
        f = None
    if f is None:
        return problem(
            request, 422, "Unknown filter: kind and escalated take the listed values.", session
        )
    found = await queue.load_queue(deps.cases(request), deps.db(request), f)
    record = audit_record(request)
    if record is not None:
        record.query = found.query
        record.case_ids = [i.case_id for i in found.items]
    return page(
        request,
        "queue.html",
        session=session,
        title="Review queue",
        queue=found,
        filter=f,
        kinds=queue.KINDS,
        may_decide=may_decide(session.principal),
    )


@router.get("/cases/{case_id}", name="workbench_case")
async def workbench_case(request: Request, case_id: str) -> Response:
    session = await _session(request)
    if session is None:
        return _to_login()
    return await _case_page(request, session, case_id)


async def _case_page(
    request: Request,
    session: Session,
    case_id: str,
    status_code: int = 200,
    error: str = "",
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    try:
        case_id = deps.case_id(case_id)
        data = await case_page.read_page(
            deps.cases(request),
            deps.db(request),
            case_id,
            with_phi=sees_phi(session.principal),
            today=datetime.now(UTC).date(),
            policies=deps.policies(request),
        )
    except (ApiError, CaseError) as err:
        exc = as_api_error(err)
        return problem(request, exc.status_code, exc.message, session)
    settings: Settings = request.app.state.settings
    ui = settings.temporal_ui_url.rstrip("/")
    temporal_url = (
        f"{ui}/namespaces/{quote(settings.temporal_namespace, safe='')}"
        f"/workflows/{quote(case_id, safe='')}"
    )
    summary = data.view.summary
    who = session.principal
    excluded = summary.review_kind == "appeal" and data.excluded_reviewer == who.subject
    return page(
        request,
        "case.html",
        status_code,
        session,
        title=f"Case {case_id}",
        case=data,
        s=summary,
        temporal_url=temporal_url,
        sees_phi=sees_phi(who),
        may_decide=may_decide(who),
        excluded=excluded,
        decided=_decided(request),
        extended=request.method == "GET" and request.query_params.get("extended") == "1",
        max_extension_days=MAX_EXTENSION_DAYS,
        error=error,
        errors=errors or {},
        form=form or {},
        determinations=DETERMINATIONS,
        case_url=_case_url(case_id),
    )


def _decided(request: Request) -> str | None:
    """The determination just sent (after the redirect), one of the fixed words only."""
    decided = request.query_params.get("decided") if request.method == "GET" else None
    return decided if decided in DETERMINATIONS else None


def decision_form(
    form: dict[str, Any], tracks: set[str]
) -> tuple[ReviewBody | None, dict[str, str]]:
    """The reviewer's decision from the form, or the field errors (never the value sent)."""
    errors: dict[str, str] = {}
    for name in sorted(set(form) - DECISION_FIELDS):
        errors[name[:40]] = "is not a field of this form (who decides comes from the login)"
    determination = form.get("determination")
    if determination not in DETERMINATIONS:
        errors["determination"] = "choose approve, deny or pend"
    rationale = form.get("rationale")
    rationale = rationale.strip() if isinstance(rationale, str) else ""
    if not rationale:
        errors["rationale"] = "give the rationale of the decision"
    elif len(rationale) > MAX_RATIONALE:
        errors["rationale"] = f"at most {MAX_RATIONALE} characters"
    elif any(ord(ch) < 32 and ch not in "\n\r\t" for ch in rationale):
        errors["rationale"] = "must not contain control characters"
    track = form.get("track") or ""
    if track and track not in tracks:
        errors["track"] = "choose one of the policy's tracks"
    terms: dict[str, Any] = {}
    end = (form.get("period_end") or "").strip()
    if end:
        try:
            terms["period_end"] = date.fromisoformat(end)
        except ValueError:
            errors["period_end"] = "a date, YYYY-MM-DD"
    units = (form.get("authorized_units") or "").strip()
    if units:
        if units.isdigit() and 0 < int(units) < 1_000_000:
            terms["authorized_units"] = int(units)
        else:
            errors["authorized_units"] = "a whole number of units, at least 1"
    if terms and determination != "approve":
        errors["determination"] = "a shorter period or fewer units go with an approval"
    facts = [f for f in re.split(r"[\s,]+", form.get("missing_facts") or "") if f]
    if facts and determination != "pend":
        errors["determination"] = "named facts go with a pend"
    if len(facts) > 20 or not all(FACT_PATH.fullmatch(f) for f in facts):
        errors["missing_facts"] = "up to 20 dotted field paths, e.g. diagnosis.mrd_percent"
    if errors:
        return None, errors
    body = ReviewBody.model_validate(
        {
            "determination": determination,
            "rationale": rationale,
            **({"track": track} if track else {}),
            **terms,
            **({"missing_facts": facts} if facts else {}),
        }
    )
    return body, {}


def extension_form(form: dict[str, Any]) -> tuple[ReviewExtensionBody | None, dict[str, str]]:
    """The review clock extension from the form, or the field errors (never the value)."""
    errors: dict[str, str] = {}
    for name in sorted(set(form) - EXTENSION_FIELDS):
        errors[name[:40]] = "is not a field of this form (who extends comes from the login)"
    days = (form.get("days") or "").strip()
    if not (days.isdigit() and 1 <= int(days) <= MAX_EXTENSION_DAYS):
        errors["days"] = f"a whole number of days, 1 to {MAX_EXTENSION_DAYS}"
    reason = form.get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        errors["reason"] = "give the reason of the extension"
    elif len(reason) > 500:
        errors["reason"] = "at most 500 characters"
    elif any(ord(ch) < 32 and ch not in "\n\r\t" for ch in reason):
        errors["reason"] = "must not contain control characters"
    if errors:
        return None, errors
    return ReviewExtensionBody(days=int(days), reason=reason), {}


async def _reviewer_post(
    request: Request, action: str
) -> tuple[Session, dict[str, str]] | Response:
    """A reviewer's form post: a live session (401), the session's CSRF token (403) and a
    role that may ``action`` (403); else the session and the form's text fields."""
    session = await _session(request)
    if session is None:
        return problem(request, 401, "Your session has ended: log in again.")
    raw = await request.form()
    if not csrf_matches(session.csrf_token, raw.get("csrf_token")):
        log.warning("workbench post without a valid csrf token", subject=session.principal.subject)
        return problem(request, 403, "The form's security token is missing or stale.", session)
    if not may_decide(session.principal):
        roles = ", ".join(session.principal.role_names) or "none"
        return problem(
            request, 403, f"Roles {roles} may not {action} (needs reviewer or admin).", session
        )
    return session, {k: v for k, v in raw.items() if isinstance(v, str)}


@router.post("/cases/{case_id}/decision", name="workbench_decide")
async def workbench_decide(request: Request, case_id: str) -> Response:
    checked = await _reviewer_post(request, "decide a review")
    if isinstance(checked, Response):
        return checked
    session, form = checked
    who = session.principal
    try:
        case_id = deps.case_id(case_id)
        tracks = await case_page.case_tracks(deps.cases(request), case_id, deps.policies(request))
    except (ApiError, CaseError) as err:
        exc = as_api_error(err)
        return problem(request, exc.status_code, exc.message, session)
    body, errors = decision_form(form, {t for t, _ in tracks})
    shown = {k: form.get(k, "") for k in SHOWN_FIELDS}
    if body is None:
        return await _case_page(
            request,
            session,
            case_id,
            422,
            "The decision was not sent: see the fields.",
            errors,
            shown,
        )
    try:
        result = await routes_actions.review_decision(deps.cases(request), case_id, body, who)
    except (ApiError, CaseError) as err:
        exc = as_api_error(err)
        if exc.status_code in (404,) or exc.status_code >= 500:
            return problem(request, exc.status_code, exc.message, session)
        return await _case_page(
            request, session, case_id, exc.status_code, f"Refused: {exc.message}", {}, shown
        )
    log.info(
        "workbench decision", case=case_id, determination=result.determination, subject=who.subject
    )
    return RedirectResponse(f"{_case_url(case_id)}?decided={body.determination}", status_code=303)


@router.post("/cases/{case_id}/review/extension", name="workbench_extend_review")
async def workbench_extend_review(request: Request, case_id: str) -> Response:
    """Extend the open review's decision clock once (1-14 days, a reason): the same path
    as ``POST /cases/{id}/review/extension`` (one audit row, one decision row, one notice)."""
    checked = await _reviewer_post(request, "extend a review")
    if isinstance(checked, Response):
        return checked
    session, form = checked
    who = session.principal
    try:
        case_id = deps.case_id(case_id)
    except ApiError as err:
        return problem(request, err.status_code, err.message, session)
    body, errors = extension_form(form)
    shown = {"ext_days": form.get("days", ""), "ext_reason": form.get("reason", "")}
    if body is None:
        errors = {f"ext-{k}": m for k, m in errors.items()}
        return await _case_page(
            request,
            session,
            case_id,
            422,
            "The extension was not sent: see the fields.",
            errors,
            shown,
        )
    try:
        await routes_actions.review_extension(deps.cases(request), case_id, body, who)
    except (ApiError, CaseError) as err:
        exc = as_api_error(err)
        if exc.status_code in (404,) or exc.status_code >= 500:
            return problem(request, exc.status_code, exc.message, session)
        return await _case_page(
            request, session, case_id, exc.status_code, f"Refused: {exc.message}", {}, shown
        )
    log.info("workbench review extension", case=case_id, days=body.days, subject=who.subject)
    return RedirectResponse(f"{_case_url(case_id)}?extended=1", status_code=303)
