"""What text the system stores and shows: valid UTF-8 without control characters or Unicode's invisible format
characters. The API's schemas state it as patterns in the OpenAPI document; `lapor.intake` checks it again, so a
channel that skipped a schema still cannot store a reversed title."""

import re

# Unicode's format characters (Cf): bidi embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069),
# zero-width spaces and joiners (U+200B..U+200F), the BOM, the soft hyphen, tags. Invisible, they make a public
# text read other than it is (a reversed title, a name that looks like another), so no public field takes them.
# The astral ones are the characters themselves: a pattern has no portable escape beyond U+FFFF.
FORMAT_CHARACTERS = (
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    r"\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
# Control characters (C0, DEL, C1): a title or a name is one line; a text may keep its line breaks and tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_FORMAT = re.compile(f"[{FORMAT_CHARACTERS}]")


def _utf8(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("teks bukan UTF-8 yang valid") from None
    return value


def _visible(value: str) -> str:
    if (found := _FORMAT.search(value)) is not None:
        raise ValueError(
            f"teks mengandung karakter tak terlihat atau pengatur arah tulisan (U+{ord(found.group()):04X}); "
            "hapus karakter itu"
        )
    return value


def storable(value: str) -> str:
    """One line a database can keep and a page can show as it is: UTF-8 (no lone surrogates), no control or
    invisible format characters, no line breaks."""
    if _CONTROL.search(_utf8(value)):
        raise ValueError("teks mengandung karakter kontrol atau baris baru")
    return _visible(value)


def storable_text(value: str) -> str:
    """Text of several lines: as `storable`, but line breaks and tabs are kept."""
    if _CONTROL_IN_TEXT.search(_utf8(value)):
        raise ValueError("teks mengandung karakter kontrol")
    return _visible(value)
