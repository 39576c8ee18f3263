"""FHIR Subscriptions (R4 backport, PAS topic): a decided case that had waited notifies
every matching subscription once, through the outbox (FHIR.md; README, FHIR).

A follower of the prescriber's notices (:class:`activities.notifications.Notifier`).
When the notice is a decision (``approval``, ``denial``, ``not_applicable``) of a case
that came through the FHIR door (a ``fhir_claims`` row) and had waited (pended for
facts or in clinical review: an earlier ``pend`` or ``review_assignment`` notice in the
outbox), then for every active subscription of the claim's submitter whose
``orgIdentifier`` filter names the requesting organization:

1. one outbox row ``fhir:<subscription>:<decision notice key>`` (so each change is
   notified once per subscription, however often the activity runs), kind
   ``fhir_subscription``, channel ``rest-hook``, recipient
   ``fhir-subscription:<id>``, whose payload is the notification Bundle: the
   subscription's next event number is taken in the same transaction that writes the
   row, so numbers are consecutive and a retry takes none;
2. delivery through a ``Notifier`` on :class:`activities.channels.RestHookChannel`:
   the same lease, attempts counted in the row, exponential backoff and final
   ``failed`` after ``NOTIFY_MAX_ATTEMPTS`` as the prescriber's notices. A row still
   pending (a worker died) is taken again when Temporal retries the activity.

The Bundle is built by the FHIR door's pure builders (``interop.fhir.subscription``,
``interop.fhir.claim_response``): the ClaimResponse is the one ``$inquire`` gives for the
decision. Logs name the case, the key and the subscription id, never the endpoint or
the bundle.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import structlog

from activities.models import NotificationInput
from activities.notifications import Notifier
from domain.policy_registry import PolicyRegistry

log = structlog.get_logger(__name__)

KIND = "fhir_subscription"

_CLAIM = "SELECT submitted_by, org_identifiers, context FROM fhir_claims WHERE case_id = $1"

_WAITED = """
SELECT EXISTS (
    SELECT 1 FROM notifications
    WHERE case_id = $1 AND kind = ANY($2::text[]) AND key <> $3
)
"""

_MATCHING = """
SELECT id FROM fhir_subscriptions
WHERE status = 'active' AND owner = $1 AND org_identifiers && $2::text[]
  AND (ends_at IS NULL OR ends_at > now())
ORDER BY created_at, id
"""

_EXISTS = "SELECT 1 FROM notifications WHERE key = $1"

_NEXT_EVENT = """
UPDATE fhir_subscriptions
SET events_since_start = events_since_start + 1, updated_at = now()
WHERE id = $1
RETURNING events_since_start
"""

_INSERT = """
INSERT INTO notifications (key, case_id, kind, recipient, channel, payload, text, actor)
VALUES ($1, $2, $3, $4, 'rest-hook', $5, $6, $7)
ON CONFLICT (key) DO NOTHING
RETURNING key
"""


class SubscriptionFanOut:
    """Writes and delivers the subscription notifications a decision notice sets off."""

    def __init__(self, pool: asyncpg.Pool, rest_hook: Notifier, policies: PolicyRegistry) -> None:
        self._pool = pool
        self._rest_hook = rest_hook
        self._policies = policies

    async def after_notice(self, inp: NotificationInput) -> None:
        from interop.fhir import subscription as fhir

        if inp.kind not in fhir.DECISION_KINDS:
            return
        claim = await self._pool.fetchrow(_CLAIM, inp.case_id)
        if claim is None:
            return  # not a case of the FHIR door
        waited = await self._pool.fetchval(_WAITED, inp.case_id, list(fhir.WAITING_KINDS), inp.key)
        if not waited:
            return  # answered at once: $submit's answer said it
        subscriptions = await self._pool.fetch(
            _MATCHING, claim["submitted_by"], list(claim["org_identifiers"])
        )
        if not subscriptions:
            return
        ctx = fhir.context_from(claim["context"])
        case = fhir.case_answer(inp.case_id, inp.kind, inp.payload, self._usual_units(inp))
        keys = []
        for sub in subscriptions:
            key = f"fhir:{sub['id']}:{inp.key}"
            await self._write(key, sub["id"], inp, ctx, case)
            keys.append(key)
        results = await asyncio.gather(*(self._rest_hook.deliver(k) for k in keys))
        for key, result in zip(keys, results, strict=True):
            log.info(
                "subscription notification",
                case=inp.case_id,
                notification_key=key,
                status=result.status,
                attempts=result.attempts,
            )

    async def _write(
        self, key: str, sub_id: str, inp: NotificationInput, ctx: Any, case: Any
    ) -> None:
        """The row once per key, its event number taken in the same transaction (the
        subscription's row lock orders two attempts: the second finds the row)."""
        from interop.fhir import subscription as fhir

        try:
            async with self._pool.acquire() as conn, conn.transaction():
                number = await conn.fetchval(_NEXT_EVENT, sub_id)
                if await conn.fetchval(_EXISTS, key):
                    raise _Written
                bundle = fhir.notification(sub_id, number, ctx, case)
                await conn.execute(
                    _INSERT,
                    key,
                    inp.case_id,
                    KIND,
                    f"fhir-subscription:{sub_id}",
                    bundle,
                    f"FHIR subscription notification {number}: the case's ClaimResponse",
                    inp.actor,
                )
        except _Written:
            pass  # rolled back: no number taken

    def _usual_units(self, inp: NotificationInput) -> int | None:
        """What the track grants when nothing cuts it (the A1 / A6 line), as door.py, under
        the case's own policy (its ``policy_ref``)."""
        policy = self._policies.resolve(inp.policy_ref)
        spec = policy.tracks.get(str(inp.payload.get("track") or ""))
        if spec is None:
            return None
        return spec.initial_cycles * policy.units.units_per_cycle


class _Written(Exception):
    """The row is there already: roll the event number back."""
