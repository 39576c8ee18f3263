"""`priorauth evaluate` and `priorauth schema` (CONTRACT.md)."""

from __future__ import annotations

import io
import json

import pytest

import cli
from tests.unit.factories import request_dict


@pytest.fixture
def request_file(tmp_path):
    def write(data) -> str:
        path = tmp_path / "request.json"
        path.write_text(data if isinstance(data, str) else json.dumps(data))
        return str(path)

    return write


def test_evaluate_prints_the_decision_json_of_the_contract(request_file, capsys):
    code = cli.main(["evaluate", request_file(request_dict())])

    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {
        "request_id", "determination", "automated", "x12_action", "track", "population", "path",
        "policy", "authorization", "dosing", "missing_facts", "medicare", "reasons", "trace",
    } <= set(out)  # fmt: skip
    assert (out["determination"], out["x12_action"], out["track"], out["path"]) == (
        "approve",
        "A1",
        "relapsed_refractory",
        "A-RR",
    )
    assert out["authorization"]["end"] == "2027-06-30"
    assert out["trace"]["id"] == "root"
    assert out["as_of"] == "2026-12-01"


def test_evaluate_reads_stdin_and_takes_an_as_of_date(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(request_dict())))

    code = cli.main(["evaluate", "-", "--as-of", "2026-12-05", "--no-trace"])

    out = json.loads(capsys.readouterr().out)
    assert (code, out["as_of"], out["trace"]) == (0, "2026-12-05", None)


def test_evaluate_prints_one_line_per_bad_field_and_exits_2(request_file, capsys):
    data = request_dict("adult_rr", {"member.date_of_birth": "1980-02-30"})
    data["diagnosis"]["ph_status"] = "maybe"
    del data["line_of_business"]

    code = cli.main(["evaluate", request_file(data)])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert lines[0] == "line_of_business: Field required"
    assert lines[1].startswith("member.date_of_birth: Input should be a valid date")
    assert lines[2].startswith("diagnosis.ph_status: Input should be 'positive', 'negative'")
    assert len(lines) == 3
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("service", "field"),
    [
        ({"hcpcs": "J9999"}, "service.hcpcs"),
        ({"ndc": "55513-0999-01"}, "service.ndc"),
        ({"ndc": "0055513016001"}, "service.ndc"),
    ],
)
def test_evaluate_refuses_another_drug_naming_the_field_with_exit_2(
    request_file, capsys, service, field
):
    data = request_dict()
    data["service"].update(service)

    code = cli.main(["evaluate", request_file(data)])

    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    [line] = captured.err.strip().splitlines()
    assert line.startswith(f"{field}: no policy covers")


@pytest.mark.parametrize("ndc", ["55513-0160-01", "55513016001", "55513-0160-02", None])
def test_evaluate_takes_blincyto_with_either_ndc_spelling(request_file, capsys, ndc):
    data = request_dict()
    data["service"]["ndc"] = ndc

    assert cli.main(["evaluate", request_file(data), "--no-trace"]) == 0
    assert json.loads(capsys.readouterr().out)["determination"] == "approve"


def test_evaluate_refuses_bad_json_in_one_line(request_file, capsys):
    code = cli.main(["evaluate", request_file("{not json")])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("request: Invalid JSON")


def test_evaluate_reports_a_missing_file(capsys):
    assert cli.main(["evaluate", "/nonexistent/request.json"]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kind", "property_name"),
    [
        ("request", "received_at"),
        ("decision", "determination"),
        ("claim", "date_of_service"),
        ("scenario", "until_day"),
    ],
)
def test_schema_prints_the_json_schema_of_each_format(capsys, kind, property_name):
    assert cli.main(["schema", kind]) == 0

    schema = json.loads(capsys.readouterr().out)
    assert property_name in schema["properties"]


# POLICY.md Section I, "Prior therapy", worked examples, through the CLI:
# base, prior, determination, cycles granted, units, renewable, max renewals, first-cycle doses
PRIOR_THERAPY = [
    ("adult_rr", 0, "approve", [1, 2, 3, 4, 5], 4900, True, 2,
     (42, [{"from_day": 1, "to_day": 7, "mcg": 9}, {"from_day": 8, "to_day": 28, "mcg": 28}])),
    ("adult_rr", 3, "approve", [4, 5, 6], 2940, True, 2,
     (42, [{"from_day": 1, "to_day": 28, "mcg": 28}])),
    ("adult_rr", 5, "approve", [6, 7], 1960, True, 1,
     (84, [{"from_day": 1, "to_day": 28, "mcg": 28}])),
    ("adult_rr", 8, "approve", [9], 980, False, 0,
     (84, [{"from_day": 1, "to_day": 28, "mcg": 28}])),
    ("adult_rr", 9, "deny", [], None, None, None, None),
    ("adult_mrd", 1, "approve", [2, 3, 4], 2940, False, 0,
     (42, [{"from_day": 1, "to_day": 28, "mcg": 28}])),
    ("adult_maint_ph_neg", 2, "approve", [3], 980, True, 2,
     (42, [{"from_day": 1, "to_day": 28, "mcg": 28}])),
]  # fmt: skip


@pytest.mark.parametrize(
    ("base", "prior", "determination", "granted", "units", "renewable", "renewals", "first"),
    PRIOR_THERAPY,
    ids=[f"{row[0]}-prior-{row[1]}" for row in PRIOR_THERAPY],
)
def test_evaluate_grants_the_cycles_left_after_the_prior_cycles(
    request_file, capsys, base, prior, determination, granted, units, renewable, renewals, first
):
    data = request_dict(base, {"therapy.prior_blinatumomab_cycles": prior})

    code = cli.main(["evaluate", request_file(data), "--no-trace"])

    out = json.loads(capsys.readouterr().out)
    assert (code, out["determination"]) == (0, determination)
    auth = out["authorization"]
    if not granted:
        assert auth is None and out["dosing"] is None
        assert "duration_exceeded" in [r["code"] for r in out["reasons"]]
        return
    assert (auth["first_cycle"], auth["cycles"]) == (granted[0], len(granted))
    assert (auth["authorized_units"], auth["renewable"], auth["max_renewals"]) == (
        units,
        renewable,
        renewals,
    )
    assert [c["cycle"] for c in out["dosing"]["cycles"]] == granted
    cycle_days, doses = first
    assert out["dosing"]["cycles"][0]["cycle_days"] == cycle_days
    assert out["dosing"]["cycles"][0]["daily_doses"] == doses


def test_the_clinical_event_schema_is_one_model_per_type_with_exactly_its_payload(capsys):
    assert cli.main(["schema", "clinical-event"]) == 0

    schema = json.loads(capsys.readouterr().out)
    mapping = schema["discriminator"]["mapping"]
    assert schema["discriminator"]["propertyName"] == "type"
    assert set(mapping) == {
        "toxicity", "response_assessment", "weight", "cycle_started", "live_vaccine",
        "discontinued", "death", "retraction",
    }  # fmt: skip
    for kind, ref in mapping.items():
        model = schema["$defs"][ref.split("/")[-1]]
        payload = set(model["properties"]) - {"event_id", "type", "date"}
        bare = kind in ("live_vaccine", "discontinued", "death")
        assert payload == (set() if bare else {kind}), kind
        assert set(model["required"]) == {"event_id", "type", "date"} | payload
        assert model["additionalProperties"] is False
    retraction = schema["$defs"]["Retraction"]
    assert set(retraction["required"]) == {"retracts", "reason"}
