"""`priorauth policy diff`: what changed, in the policy's own terms (issue #17)."""

from __future__ import annotations

import json
from datetime import date

import cli
from domain.policy_diff import diff_policies
from tests.unit.policy_drafts import (
    CURRENT,
    as_policy,
    current_data,
    find_node,
    mrd_draft,
    next_version,
    write,
)


def _changes(old, new):
    return {(c.section, c.path, c.change): (c.old, c.new, c.ref) for c in diff_policies(old, new)}


def test_the_same_policy_has_no_change(policy):
    assert diff_policies(policy, as_policy(current_data())) == []


def test_raising_the_adult_mrd_threshold_names_the_node_its_value_and_citation(policy):
    changes = _changes(policy, as_policy(mrd_draft(0.5)))

    assert changes[("criteria", "A-MRD-1.value", "changed")] == (0.1, 0.5, "III (ALL – Adult)")
    assert ("criteria", "A-MRD-1.label", "changed") in changes
    assert changes[("policy", "policy.version", "changed")][:2] == ("2025-09-04", "2026-draft")
    assert len(changes) == 3


def test_nodes_added_and_removed_are_named_with_their_parent_and_test(policy):
    data = current_data()
    paths = find_node(data["criteria"], "A-PATHS")
    paths["any"] = [n for n in paths["any"] if n["id"] != "A-FI"]
    mrd = find_node(data["criteria"], "A-MRD")
    mrd["all"].append(
        {"id": "A-MRD-4", "label": "Weight stated", "fact": "clinical.weight_kg", "op": "gt",
         "value": 0}
    )  # fmt: skip
    changes = _changes(policy, as_policy(data))

    new = changes[("criteria", "A-MRD-4", "added")][1]
    assert new == "Weight stated [clinical.weight_kg > 0] under A-MRD"
    assert changes[("criteria", "A-FI", "removed")][0].endswith("under A-PATHS")
    for leaf in ("A-FI-1", "A-FI-2", "A-FI-2a", "A-FI-2b", "A-FI-3"):
        assert ("criteria", leaf, "removed") in changes


def test_tracks_limits_dosing_rows_and_codes_are_compared_by_their_keys(policy):
    data = current_data()
    data["tracks"]["mrd_positive"]["initial_days"] = 196
    data["units"]["max_units_per_window"] = 1050
    rows = data["dosing"]["tracks"]["mrd_positive"]
    rows[0]["at_or_above"]["doses"][0]["mcg"] = 30
    del data["covered_icd10"]["codes"]["C91.02"]
    data["covered_icd10"]["codes"]["C83.5A"] = "Lymphoblastic lymphoma, in remission"
    data["billing"]["hcpcs"] = ["J9039", "J9040"]
    changes = _changes(policy, as_policy(data))

    assert changes[("tracks", "tracks.mrd_positive.initial_days", "changed")] == (168, 196, "I")
    assert changes[("units", "units.max_units_per_window", "changed")] == (980, 1050, "II")
    key = "dosing.tracks.mrd_positive[cycles 1-4].at_or_above.doses[days 1-28].mcg"
    assert changes[("dosing", key, "changed")] == (28.0, 30.0, "V")
    assert changes[("covered_icd10", "covered_icd10.codes.C91.02", "removed")][2] == "Appendix 1"
    assert ("covered_icd10", "covered_icd10.codes.C83.5A", "added") in changes
    assert changes[("billing", "billing.hcpcs[J9040]", "added")] == (None, "J9040", "VI")


def test_the_command_prints_json_for_tools_and_a_table_for_people(tmp_path, capsys):
    draft = write(tmp_path, mrd_draft(0.5))

    assert cli.main(["policy", "diff", str(CURRENT), str(draft), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["old"] == "OHSU-HEALTHSERVICES-0382@2025-09-04"
    assert report["new"] == "OHSU-HEALTHSERVICES-0382@2026-draft"
    value = next(c for c in report["changes"] if c["path"] == "A-MRD-1.value")
    assert (value["old"], value["new"], value["change"]) == (0.1, 0.5, "changed")
    assert report["summary"]["criteria"] == {"added": 0, "removed": 0, "changed": 2}

    assert cli.main(["policy", "diff", str(CURRENT), str(draft)]) == 0
    table = capsys.readouterr().out
    assert "A-MRD-1.value" in table and "0.1" in table and "0.5" in table


def test_a_file_that_is_not_a_policy_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: [\n")
    assert cli.main(["policy", "diff", str(CURRENT), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not valid YAML" in err and "Traceback" not in err
    data = mrd_draft()
    del data["tracks"]
    assert cli.main(["policy", "diff", str(CURRENT), str(write(tmp_path, data))]) == 2
    assert "tracks: Field required" in capsys.readouterr().err


def test_the_diff_of_the_current_file_and_next_months_version_names_what_changed(tmp_path, capsys):
    """The two files of the versions-in-effect workflow test (tests/workflows/
    test_cases_decided_under_the_version_in_effect.py): side by side in one registry."""
    new = write(tmp_path, next_version(date(2027, 1, 1)), "blincyto_2027-01-01.yaml")

    assert cli.main(["policy", "diff", str(CURRENT), str(new), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["new"] == "OHSU-HEALTHSERVICES-0382@2027-01-01"
    changes = {c["path"]: (c["old"], c["new"], c["change"]) for c in report["changes"]}
    assert changes["A-MRD-1.value"] == (0.1, 0.5, "changed")
    assert changes["tracks.relapsed_refractory.renewal.period_days"] == (168, 126, "changed")
    assert changes["policy.effective_from"][1:] == ("2027-01-01", "changed")

    assert cli.main(["policy", "diff", str(CURRENT), str(new)]) == 0
    table = capsys.readouterr().out
    rows = table.splitlines()
    assert any("A-MRD-1.value" in r and "0.1" in r and "0.5" in r and "III" in r for r in rows)
    assert any("relapsed_refractory.renewal.period_days" in r and "126" in r for r in rows)
