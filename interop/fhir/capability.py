"""``GET /fhir/metadata``: the CapabilityStatement naming what the FHIR door does."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from domain import policy_registry
from domain.policy import Policy
from interop.fhir import codes
from interop.fhir.fact_catalog import catalog_for
from interop.fhir.questionnaire import canonical_url

OPERATIONS = [
    ("submit", "Claim", "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-submit"),
    ("inquire", "Claim", "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-inquiry"),
    (
        "questionnaire-package",
        "Questionnaire",
        "http://hl7.org/fhir/us/davinci-dtr/OperationDefinition/Questionnaire-package",
    ),
]


def capability_statement(policies: Iterable[Policy] | None = None) -> dict[str, Any]:
    """The CapabilityStatement; the Questionnaires are those of ``policies`` (default: every
    policy of the process's registry), one per drug's policy."""
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    served = policies if policies is not None else policy_registry.default_registry().policies
    questionnaires = list(dict.fromkeys(canonical_url(catalog_for(p)) for p in served))

    def ops(kind: str) -> list[dict[str, str]]:
        return [{"name": n, "definition": d} for n, k, d in OPERATIONS if k == kind]

    body = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(UTC).date().isoformat(),
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": [codes.FHIR_JSON, "json"],
        "implementationGuide": [
            "http://hl7.org/fhir/us/davinci-pas/ImplementationGuide/hl7.fhir.us.davinci-pas|2.2.1"
        ],
        "implementation": {"description": "Prior authorization: the FHIR door"},
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Bearer tokens as for the JSON API; the intake role submits, "
                    "inquires and subscribes (README, Security)."
                },
                "resource": [
                    {
                        "type": "Claim",
                        "supportedProfile": [codes.PROFILE_CLAIM, codes.PROFILE_CLAIM_UPDATE],
                        "operation": ops("Claim"),
                    },
                    {"type": "ClaimResponse", "supportedProfile": [codes.PROFILE_CLAIMRESPONSE]},
                    {
                        "type": "Questionnaire",
                        "operation": ops("Questionnaire"),
                        "supportedProfile": questionnaires,
                    },
                    {
                        "type": "Subscription",
                        "interaction": [{"code": "create"}, {"code": "read"}, {"code": "delete"}],
                        "supportedProfile": [
                            f"{codes.PAS_SD}/profile-subscription",
                            "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
                            "backport-subscription",
                        ],
                        "extension": [
                            {
                                "url": "http://hl7.org/fhir/uv/subscriptions-backport/"
                                "StructureDefinition/capabilitystatement-subscriptiontopic-canonical",
                                "valueCanonical": "http://hl7.org/fhir/us/davinci-pas/"
                                "SubscriptionTopic/PASSubscriptionTopic",
                            }
                        ],
                    },
                ],
            }
        ],
    }
    return CapabilityStatement.model_validate(body).model_dump(mode="json", exclude_none=True)
