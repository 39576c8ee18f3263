"""The DTR Questionnaire is generated from the policy data and maps back with no
configuration: filling it for each hold-out-style request gives the JSON decision."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from domain.policy import Policy, load_policy
from domain.request import PARequest
from examples.fhir_bundles import pas_bundle
from interop.fhir.bundle import parse_bundle
from interop.fhir.fact_catalog import catalog_of
from interop.fhir.mapping import map_bundle
from interop.fhir.outcome import FhirError
from interop.fhir.questionnaire import questionnaire
from tests.unit.factories import BASES, request_dict

#: Variants that leave facts unstated (pend) or state them so the request is refused.
VARIANTS = [(base, {}) for base in BASES] + [
    ("adult_mrd", {"diagnosis.mrd_percent": None}),
    ("adult_rr", {"therapy.setting": None, "therapy.combined_with": None}),
    ("adult_rr", {"clinical.live_vaccine_within_2_weeks": True}),
    ("adult_rr", {"diagnosis.icd10_codes": ["C83.5A"]}),
    ("adult_rr", {"therapy.prior_blinatumomab_cycles": 9}),
    ("ped_rr_tki", {"therapy.tki": "ponatinib"}),
    ("adult_rr", {"member.date_of_birth": "2010-01-01"}),
]


def criteria_facts() -> set[str]:
    policy = load_policy()
    facts = {node.fact for node in policy.criteria.walk() if node.fact}
    return facts | {policy.prior_therapy.fact}


def test_every_fact_a_criterion_reads_has_exactly_one_item_with_its_contract_path():
    q = questionnaire()
    link_ids = [item["linkId"] for item in q["item"]]
    assert sorted(link_ids) == sorted(criteria_facts())
    assert q["version"] == load_policy().version
    for item in q["item"]:
        model = PARequest.model_fields[item["linkId"].split(".")[0]]
        assert model is not None


def test_only_the_chosen_settings_questions_are_enabled():
    items = {item["linkId"]: item for item in questionnaire()["item"]}
    assert items["therapy.setting"]["required"] is True
    assert "enableWhen" not in items["clinical.live_vaccine_planned"]
    mrd = [w["answerCoding"]["code"] for w in items["diagnosis.mrd_percent"]["enableWhen"]]
    assert mrd == ["mrd_positive"]
    regimen = {w["answerCoding"]["code"] for w in items["therapy.regimen"]["enableWhen"]}
    assert regimen == {"consolidation", "maintenance", "relapsed_refractory"}
    assert items["diagnosis.ph_status"]["type"] == "choice"
    codes = [o["valueCoding"]["code"] for o in items["therapy.combined_with"]["answerOption"]]
    assert codes[-1] == "none" and items["therapy.combined_with"]["repeats"] is True


def test_the_questionnaire_follows_the_policy_data():
    data = load_policy().model_dump(mode="json", by_alias=True, exclude_none=True)
    data["policy"]["version"] = "2099-01-01"
    text = json.dumps(data).replace(
        '"fact": "diagnosis.mrd_percent"', '"fact": "clinical.height_cm"'
    )
    catalog = catalog_of(Policy.model_validate(json.loads(text)))
    q = questionnaire(catalog)
    assert q["version"] == "2099-01-01"
    link_ids = [i["linkId"] for i in q["item"]]
    assert "clinical.height_cm" in link_ids and "diagnosis.mrd_percent" not in link_ids


@pytest.mark.parametrize(
    ("base", "changes"), VARIANTS, ids=[f"{b}-{i}" for i, (b, _) in enumerate(VARIANTS)]
)
def test_a_filled_questionnaire_gives_the_json_requests_decision(evaluate, base, changes):
    data = request_dict(base, changes)
    direct = PARequest.model_validate(data)
    parsed = parse_bundle(pas_bundle(data))
    mapped = map_bundle(parsed, datetime.fromisoformat(data["received_at"]))
    assert mapped.request is not None
    assert mapped.request.model_dump() == direct.model_dump()
    a, b = evaluate(mapped.request), evaluate(direct)
    assert (a.determination, a.track, a.missing_facts) == (
        b.determination,
        b.track,
        b.missing_facts,
    )


def test_an_answer_outside_the_options_or_an_unknown_link_id_names_the_item():
    data = request_dict("adult_rr")
    bundle = pas_bundle(data)
    qr = next(
        e for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    qr["resource"]["item"][0]["answer"] = [{"valueCoding": {"code": "sometimes"}}]
    qr["resource"]["item"].append({"linkId": "member.secret", "answer": [{"valueString": "x"}]})
    with pytest.raises(FhirError) as caught:
        map_bundle(parse_bundle(bundle), datetime.fromisoformat(data["received_at"]))
    where = [i.expression for i in caught.value.issues]
    assert where[0].endswith(".item[0].answer") and where[1].endswith(".linkId")
    assert "sometimes" not in str(caught.value)


@pytest.mark.parametrize(
    ("priority", "level", "urgency"),
    [
        ("normal", None, "standard"),
        ("stat", None, "expedited"),
        ("normal", "U", "expedited"),
        ("normal", "03", "expedited"),
        ("normal", "E", "standard"),
    ],
)
def test_urgency_comes_from_priority_or_level_of_service(priority, level, urgency):
    data = request_dict("adult_rr")
    bundle = pas_bundle(data)
    claim = bundle["entry"][0]["resource"]
    claim["priority"]["coding"][0]["code"] = priority
    if level:
        claim["extension"] = [
            {
                "url": "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-levelOfServiceCode",
                "valueCodeableConcept": {
                    "coding": [{"system": "https://codesystem.x12.org/005010/1338", "code": level}]
                },
            }
        ]
    mapped = map_bundle(parse_bundle(bundle), datetime.fromisoformat(data["received_at"]))
    assert mapped.request is not None and mapped.request.urgency == urgency


@pytest.mark.parametrize(
    ("code", "line"),
    [
        ("111", "medicare_advantage"),
        ("121", "medicare_part_b"),
        ("21", "medicaid"),
        ("5", "commercial"),
        (None, "commercial"),
    ],
)
def test_line_of_business_comes_from_the_source_of_payment_typology(code, line):
    data = request_dict("adult_rr")
    bundle = pas_bundle(data)
    coverage = bundle["entry"][3]["resource"]
    if code is None:
        del coverage["type"]
    else:
        coverage["type"]["coding"][0]["code"] = code
    mapped = map_bundle(parse_bundle(bundle), datetime.fromisoformat(data["received_at"]))
    assert mapped.request is not None and mapped.request.line_of_business == line
