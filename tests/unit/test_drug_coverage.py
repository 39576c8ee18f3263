"""A request is for a drug some policy covers (CONTRACT.md, "Prior-authorization request";
POLICY.md, Section VI), read from every file in domain/policies, not from code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from domain import coverage
from domain.policy import POLICY_DIR
from domain.policy_registry import PolicyRegistry
from domain.request import PARequest
from tests.synthetic_policy import serving
from tests.unit.factories import request_dict


def fields(data) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        PARequest.model_validate(data)
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}


def with_service(**service) -> dict:
    data = request_dict()
    data["service"].update(service)
    return data


def test_blincyto_is_covered_by_its_policy_file():
    assert coverage.covered_hcpcs() == ("J9039",)
    assert coverage.all_ndc_products() == ("55513-0160",)


@pytest.mark.parametrize("ndc", ["55513-0160-01", "55513016001", "55513-0160-10", None])
def test_j9039_with_either_ndc_spelling_or_no_ndc_is_accepted(ndc):
    request = PARequest.model_validate(with_service(hcpcs="J9039", ndc=ndc))
    assert (request.service.hcpcs, request.service.ndc) == ("J9039", ndc)


@pytest.mark.parametrize("hcpcs", ["J9999", "J9041", "j9039", " J9039", ""])
def test_another_hcpcs_is_refused_naming_the_field(hcpcs):
    errors = fields(with_service(hcpcs=hcpcs))
    assert list(errors) == ["service.hcpcs"]
    assert "J9039" in errors["service.hcpcs"]


@pytest.mark.parametrize(
    "ndc",
    ["00069-0160-01", "55513-0161-01", "5551301600", "555130160011", "55513-016001",
     "55513-0160-1", "5551-30160-01", "55513-0160-01\n", ""],
)  # fmt: skip
def test_another_ndc_or_spelling_is_refused_naming_the_field(ndc):
    assert list(fields(with_service(ndc=ndc))) == ["service.ndc"]


def test_a_request_must_name_its_drug():
    """A careful payer's choice: no drug named, no policy to decide it by, so refused."""
    data = request_dict()
    data["service"]["hcpcs"] = None
    assert list(fields(data)) == ["service.hcpcs"]
    del data["service"]["hcpcs"]
    assert fields(data) == {"service.hcpcs": "Field required"}
    del data["service"]
    assert fields(data) == {"service": "Field required"}


@pytest.fixture
def second_policy(tmp_path: Path, monkeypatch):
    """The policy directory with a second drug's file beside Blincyto's, as the registry
    of the process (domain.policy_registry.default_registry)."""
    for file in POLICY_DIR.glob("*.yaml"):
        shutil.copy(file, tmp_path / file.name)
    source = next(POLICY_DIR.glob("*.yaml"))
    data = yaml.safe_load(source.read_text())
    data["policy"]["id"] = "TEST-OTHER-DRUG"
    data["billing"]["hcpcs"] = ["J9999"]
    data["billing"]["ndc_products"] = ["12345-6789"]
    (tmp_path / "test-other-drug_2025-01-01.yaml").write_text(yaml.safe_dump(data))
    serving(monkeypatch, PolicyRegistry.from_directory(tmp_path))


def test_a_drug_another_policy_file_covers_is_accepted_with_its_own_ndcs(second_policy):
    assert coverage.covered_hcpcs() == ("J9039", "J9999")
    other = PARequest.model_validate(with_service(hcpcs="J9999", ndc="12345678901"))
    assert other.service.hcpcs == "J9999"
    assert PARequest.model_validate(with_service(hcpcs="J9039", ndc="55513-0160-01"))
    # An NDC must be the requested drug's own.
    assert list(fields(with_service(hcpcs="J9999", ndc="55513-0160-01"))) == ["service.ndc"]
    assert list(fields(with_service(hcpcs="J9039", ndc="12345-6789-01"))) == ["service.ndc"]
    assert list(fields(with_service(hcpcs="J0000"))) == ["service.hcpcs"]
