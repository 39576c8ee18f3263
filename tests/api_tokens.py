"""One bearer token per API role, for tests that call the API as each role."""

from __future__ import annotations

TOKENS = {
    "intake": "tok-intake",
    "claims": "tok-claims",
    "clinical": "tok-clinical",
    "reviewer": "tok-reviewer",
    "read-only": "tok-read",
    "admin": "tok-admin",
}

#: The API_TOKENS setting that grants them (``token:role,...``).
API_TOKENS = ",".join(f"{token}:{role}" for role, token in TOKENS.items())


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}
