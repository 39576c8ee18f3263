"""FHIR (FHIR.md): the pure part of the FHIR door, no web framework, database or Temporal.

Modules: ``codes`` (systems and profiles), ``outcome`` (OperationOutcome, the 400),
``bundle`` (parsing and PAS validation), ``mapping`` (PAS bundle -> CONTRACT request),
``fact_catalog`` and ``questionnaire`` (the DTR Questionnaire generated from a drug's
policy, and its answers), ``claim_response`` (the case -> PAS ClaimResponse), ``crd``
(CDS Hooks cards), ``subscription`` (the Subscription body and its notification) and
``capability``. Served by ``api.fhir``; notifications sent by
``activities.fhir_subscriptions``.
"""
