"""Standard exchange formats, pure: mapping our cases to and from them (FHIR: ``interop.fhir``).

Below the API (which serves them) and the activities (which send them), above the
domain: no web framework, database or Temporal here (import contracts, pyproject.toml).
"""
