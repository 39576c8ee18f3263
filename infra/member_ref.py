"""MemberRef: a keyed hash of the member id, safe for search attributes and logs."""

from __future__ import annotations

import hashlib
import hmac


def member_ref(member_id: str, key: str) -> str:
    """HMAC-SHA256 of the member id under the deployment's key, shortened to 24 hex chars."""
    digest = hmac.new(key.encode(), member_id.strip().encode(), hashlib.sha256).hexdigest()
    return f"m_{digest[:24]}"
