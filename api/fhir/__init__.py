"""The FHIR door (FHIR.md): Da Vinci PAS submit / inquire, DTR questionnaire, CRD hooks,
subscriptions and the CapabilityStatement, all into the same case workflow as the JSON API.

Modules: ``codes`` (systems and profiles), ``outcome`` (OperationOutcome, the 400),
``bundle`` (parsing and PAS validation), ``mapping`` (PAS bundle -> CONTRACT request),
``questionnaire`` (the DTR Questionnaire generated from the policy, and its answers),
``claim_response`` (the case -> PAS ClaimResponse), ``door`` (the one module that talks
to the cases), ``crd``, ``subscription``, ``capability`` and ``routes``.
"""
