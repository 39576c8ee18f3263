"""Namespaces of the two-key advisory locks the activities take (keep distinct from others).

``MEMBER_LOCK`` + ``hashtext(member_ref)`` serialises everything that reads
or writes a member's units: the claims ledger's transaction (the only writer
of a case's ``units_paid`` once its record exists). ``CLAIM_LOCK`` + ``hashtext(claim id
\\x1f line)`` serialises the rows of one claim line across members.
"""

MEMBER_LOCK = 5_001
CLAIM_LOCK = 5_002
