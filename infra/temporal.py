"""The Temporal client and the custom search attributes of DESIGN.md.

The client speaks TLS to the frontend when the settings say so
(``TEMPORAL_TLS_*``): the server's CA (else the system trust store), and for
mutual TLS a client certificate and its key, all PEM files; the server name
checked in the server's certificate may be overridden. README, "Security",
says what a deployment provides.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import temporalio.api.common.v1
from pydantic import TypeAdapter
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeKey,
)
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    PayloadCodec,
)
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from domain.strict import RECORDED

if TYPE_CHECKING:
    from infra.settings import Settings

AUTH_STATUS = SearchAttributeKey.for_keyword("AuthStatus")
AUTH_TRACK = SearchAttributeKey.for_keyword("AuthTrack")
AUTH_PERIOD_END = SearchAttributeKey.for_datetime("AuthPeriodEnd")
AUTH_RENEWALS_USED = SearchAttributeKey.for_int("AuthRenewalsUsed")
AUTH_ESCALATED = SearchAttributeKey.for_bool("AuthEscalated")
MEMBER_REF = SearchAttributeKey.for_keyword("MemberRef")
# Claims run-out (POLICY.md): the last day an ended case takes claims; a running case
# with it set is in run-out.
AUTH_RUN_OUT_UNTIL = SearchAttributeKey.for_datetime("AuthRunOutUntil")

SEARCH_ATTRIBUTES = (
    AUTH_STATUS,
    AUTH_TRACK,
    AUTH_PERIOD_END,
    AUTH_RENEWALS_USED,
    AUTH_ESCALATED,
    MEMBER_REF,
    AUTH_RUN_OUT_UNTIL,
)

_INDEXED_TYPE = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}


def search_attribute_types() -> dict[str, str]:
    """Name -> Temporal type name ("Keyword", "Int", ...), as the CLI and compose spell them."""
    names = {
        "KEYWORD": "Keyword",
        "DATETIME": "Datetime",
        "INT": "Int",
        "BOOL": "Bool",
    }
    return {
        key.name: names[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]
        for key in SEARCH_ATTRIBUTES
    }


class RecordedJSONPayloadConverter(PydanticJSONPlainPayloadConverter):
    """pydantic's JSON converter, reading payloads as data a case already accepted.

    A payload in Temporal (a workflow input, carried state, an update or signal in a
    history) was validated when it was accepted, under the rules of its day. It is
    decoded with the context ``domain.strict.RECORDED``, so a rule tightened since
    (CONTRACT.md, "Strict types": identifiers, the covered drug, strict types) does
    not stop a running case from decoding and replaying. The public edges (API, CLI,
    scenarios) validate without it, strictly.
    """

    def from_payload(
        self, payload: temporalio.api.common.v1.Payload, type_hint: type | None = None
    ) -> Any:
        hint = type_hint if type_hint is not None else Any
        try:
            adapter = _type_adapter(hint)
        except TypeError:  # an unhashable hint: no cache
            adapter = TypeAdapter(hint)
        return adapter.validate_json(payload.data, context=RECORDED)


_type_adapter = functools.lru_cache(maxsize=1024)(TypeAdapter)


class PayloadConverter(CompositePayloadConverter):
    """Temporal's default converters with the JSON one replaced (pydantic, recorded data)."""

    def __init__(self) -> None:
        json_converter = RecordedJSONPayloadConverter()
        super().__init__(
            *(
                json_converter if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


PYDANTIC_DATA_CONVERTER = DataConverter(payload_converter_class=PayloadConverter)


def data_converter(codec: PayloadCodec | None = None) -> DataConverter:
    """Pydantic models on the wire; payloads encrypted when a codec is given.

    Payloads are read as recorded data (``RecordedJSONPayloadConverter``). With a
    codec, failure messages and stack traces are moved into an encoded attribute
    too, so an error text can never carry PHI into the history.
    """
    if codec is None:
        return PYDANTIC_DATA_CONVERTER
    return dataclasses.replace(
        PYDANTIC_DATA_CONVERTER,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """The client's TLS from ``TEMPORAL_TLS_*``: False (plain), True (system CAs) or a config."""
    ca = settings.temporal_tls_server_ca_cert
    cert = settings.temporal_tls_client_cert
    key = settings.temporal_tls_client_key
    name = settings.temporal_tls_server_name
    if ca is None and cert is None and key is None and name is None:
        return settings.temporal_tls
    return TLSConfig(
        server_root_ca_cert=ca.read_bytes() if ca is not None else None,
        client_cert=cert.read_bytes() if cert is not None else None,
        client_private_key=key.read_bytes() if key is not None else None,
        domain=name,
    )


async def connect(
    address: str,
    namespace: str = "default",
    codec: PayloadCodec | None = None,
    *,
    tls: TLSConfig | bool = False,
) -> Client:
    return await Client.connect(
        address, namespace=namespace, data_converter=data_converter(codec), tls=tls
    )


async def ensure_search_attributes(client: Client, namespace: str = "default") -> None:
    """Register the custom search attributes that are missing (idempotent).

    The time-skipping test server cannot list search attributes; there every
    attribute is added (it accepts re-adding).
    """
    existing: Mapping[str, Any]
    try:
        existing = (
            await client.operator_service.list_search_attributes(
                ListSearchAttributesRequest(namespace=namespace)
            )
        ).custom_attributes
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        existing = {}
    missing = {
        name: _INDEXED_TYPE[kind]
        for name, kind in search_attribute_types().items()
        if name not in existing
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
