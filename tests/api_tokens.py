"""One credential per person or system, for tests that call the API as someone.

``PEOPLE`` maps each subject to its token and roles; ``TOKENS``/``auth(role)``
pick the usual holder of a role (the first reviewer for ``reviewer``), and
``auth_as(subject)`` anyone, such as the second reviewer who may decide an
appeal of the first one's denial. Tokens are at least 32 characters, as the
API requires (api/identity.py).
"""

from __future__ import annotations


def _token(name: str) -> str:
    return f"test-token-{name}-".ljust(40, "x")


#: subject -> (token, roles)
PEOPLE: dict[str, tuple[str, list[str]]] = {
    "intake-desk": (_token("intake"), ["intake"]),
    "claims-system": (_token("claims"), ["claims"]),
    "clinical-system": (_token("clinical"), ["clinical"]),
    "rph-ana": (_token("reviewer"), ["reviewer"]),
    "md-ben": (_token("reviewer-2"), ["reviewer"]),
    "auditor": (_token("read"), ["read-only"]),
    "ops-admin": (_token("admin"), ["admin"]),
}

#: role -> the subject that usually acts in it
SUBJECTS = {
    "intake": "intake-desk",
    "claims": "claims-system",
    "clinical": "clinical-system",
    "reviewer": "rph-ana",
    "read-only": "auditor",
    "admin": "ops-admin",
}
#: role -> that subject's token
TOKENS = {role: PEOPLE[subject][0] for role, subject in SUBJECTS.items()}

#: The API_TOKENS setting that grants them (``token=subject:role+role,...``).
API_TOKENS = ",".join(
    f"{token}={subject}:{'+'.join(roles)}" for subject, (token, roles) in PEOPLE.items()
)


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def auth_as(subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {PEOPLE[subject][0]}"}
