"""A case's id is made in one place (domain/case_id.py): ``pa-<request_id>``."""

from __future__ import annotations

from api.client import case_path
from domain.case_id import CASE_PREFIX, as_case_id, case_id


def test_a_request_id_names_its_case():
    assert case_id("REQ-1001") == "pa-REQ-1001"
    assert case_id("REQ-1001").removeprefix(CASE_PREFIX) == "REQ-1001"


def test_a_case_id_or_a_request_id_typed_by_a_person_is_the_case_id():
    assert as_case_id("REQ-1001") == "pa-REQ-1001"
    assert as_case_id(" pa-REQ-1001 ") == "pa-REQ-1001"
    assert as_case_id("pa-") == "pa-"  # already a case id's shape; the API says 404


def test_the_cli_addresses_the_same_case_either_way():
    assert case_path("REQ-1") == case_path("pa-REQ-1") == "/cases/pa-REQ-1"
    assert case_path("REQ 1/2") == "/cases/pa-REQ%201%2F2"
