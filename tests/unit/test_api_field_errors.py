"""Field names in 422 answers: request locations are dropped, a model's own fields never."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.errors import field_path
from domain.request import PARequest
from tests.unit.factories import request_dict


def test_fastapi_request_locations_are_dropped_from_the_field_name():
    assert field_path(("body", "member", "date_of_birth"), request_loc=True) == (
        "member.date_of_birth"
    )
    assert field_path(("body",), request_loc=True) == "body"


@pytest.mark.parametrize("name", ["path", "body", "query"])
def test_an_unknown_field_named_like_a_request_location_is_named_as_itself(name):
    body = {**request_dict(), name: None}
    with pytest.raises(ValidationError) as caught:
        PARequest.model_validate(body)
    [error] = caught.value.errors()
    assert field_path(error["loc"]) == name
    assert field_path(("body", *error["loc"]), request_loc=True) == name
