"""The typed-variable codec: what Python values become on the wire, and back."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lapor.process.codec import UnsupportedVariable, decode, decode_all, encode, encode_all, format_date, parse_date

WIB = timezone(timedelta(hours=7))


def test_primitives_get_the_engines_types() -> None:
    assert encode("LPR-1") == {"value": "LPR-1", "type": "String"}
    assert encode(True) == {"value": True, "type": "Boolean"}  # not Integer, though bool is an int in Python
    assert encode(5) == {"value": 5, "type": "Integer"}
    assert encode(2**31) == {"value": 2**31, "type": "Long"}  # past Java's int
    assert encode(-(2**31)) == {"value": -(2**31), "type": "Integer"}
    assert encode(4.5) == {"value": 4.5, "type": "Double"}
    assert encode(None) == {"value": None, "type": "Null"}


def test_dates_travel_with_their_offset_in_the_rest_apis_format() -> None:
    due = datetime(2026, 12, 4, 23, 59, 59, tzinfo=WIB)
    assert encode(due) == {"value": "2026-12-04T23:59:59.000+0700", "type": "Date"}
    assert decode({"value": "2026-12-04T16:59:59.000+0000", "type": "Date"}) == due
    assert parse_date(format_date(datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC))) == datetime(
        2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC
    )  # milliseconds: the engine keeps no more


def test_a_date_without_a_timezone_is_refused() -> None:
    with pytest.raises(UnsupportedVariable):
        encode(datetime(2026, 12, 4, 23, 59))


@pytest.mark.parametrize("value", [["a", "b"], {"a": 1}, b"bytes", object()])
def test_values_the_engine_cannot_hold_are_refused_not_turned_into_text(value: object) -> None:
    with pytest.raises(UnsupportedVariable):
        encode(value)


def test_whole_maps_round_trip() -> None:
    variables = {"trackingId": "LPR-1", "photoCount": 2, "anonymous": False, "due": datetime(2026, 1, 1, tzinfo=UTC)}
    assert decode_all(encode_all(variables)) == variables


def test_unknown_types_come_back_as_their_raw_value() -> None:
    assert decode({"value": "<xml/>", "type": "Xml"}) == "<xml/>"
    assert decode({"value": None, "type": "String"}) is None
