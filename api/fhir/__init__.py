"""The FHIR door (FHIR.md): Da Vinci PAS submit / inquire, DTR questionnaire, CRD hooks,
subscriptions and the CapabilityStatement, all into the same case workflow as the JSON API.

The pure FHIR mapping and builders live in ``interop.fhir`` (shared with the activities
that send subscription notifications). Here: ``routes`` (the HTTP routes), ``pas``
($submit / $inquire / claim updates), ``door`` (the one module that talks to the cases)
and ``responses`` (FHIR JSON answers and OperationOutcome responses).
"""
