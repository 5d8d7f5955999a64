"""The base of every API model: camelCase on the wire, snake_case in Python, docstrings as docs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CRDModel(BaseModel):
    """Field docstrings become the CRD's descriptions, which is what `kubectl explain` prints."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        use_attribute_docstrings=True,
        extra="forbid",
    )
