"""Python values to Operaton's typed variables and back: the only place that knows the wire types.

The engine here has no JSON variable type (Spin's JSON data format is not on this project's Maven Central), so a
variable is a string, a boolean, a number, a date or null. A list or a dict is refused with TypeError rather than
smuggled in as text: the model would see a string where the author meant a list.
"""

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_INT32 = range(-(2**31), 2**31)
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"  # what the REST API reads and writes: 2026-12-02T23:59:59.000+0700

TypedValue = dict[str, object]  # {"value": ..., "type": ..., "valueInfo": ...}


class UnsupportedVariable(TypeError):
    """A value the engine cannot hold as a process variable."""


def format_date(value: datetime) -> str:
    if value.tzinfo is None:
        raise UnsupportedVariable("a date variable needs a timezone-aware datetime")
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}" + value.strftime("%z")


def parse_date(text: str) -> datetime:
    return datetime.strptime(text, DATE_FORMAT)


@dataclass(frozen=True)
class File:
    """A file variable (what Tasklist's embedded forms send for a file input): bytes, a name and a media type."""

    data: bytes
    filename: str
    mime_type: str


def encode(value: object) -> TypedValue:
    """One typed variable, as the REST API wants it: {"value": ..., "type": ...}."""
    if isinstance(value, File):
        return {
            "value": base64.b64encode(value.data).decode(),
            "type": "File",
            "valueInfo": {"filename": value.filename, "mimeType": value.mime_type},
        }
    if value is None:
        return {"value": None, "type": "Null"}
    if isinstance(value, bool):  # before int: bool is an int in Python
        return {"value": value, "type": "Boolean"}
    if isinstance(value, int):
        return {"value": value, "type": "Integer" if value in _INT32 else "Long"}
    if isinstance(value, float):
        return {"value": value, "type": "Double"}
    if isinstance(value, str):
        return {"value": value, "type": "String"}
    if isinstance(value, datetime):
        return {"value": format_date(value), "type": "Date"}
    raise UnsupportedVariable(
        f"{type(value).__name__} cannot be a process variable (strings, numbers, booleans, dates)"
    )


def decode(typed: Mapping[str, object]) -> Any:
    """The Python value of one typed variable; unknown types come back as their raw value."""
    kind, value = typed.get("type"), typed.get("value")
    if value is None:
        return None
    if kind == "Date":
        return parse_date(str(value))
    return value


def encode_all(variables: Mapping[str, object]) -> dict[str, TypedValue]:
    return {name: encode(value) for name, value in variables.items()}


def decode_all(variables: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
    return {name: decode(typed) for name, typed in variables.items()}
