"""Photo uploads: type checked from the bytes, re-encoded without metadata, stored content-addressed on disk."""

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "CONTENT_TYPES",
    "MAX_BYTES",
    "MAX_FILES",
    "MAX_PIXELS",
    "CleanImage",
    "FileTooLarge",
    "IncompleteImage",
    "UnsupportedImage",
    "UploadError",
    "clean_image",
    "path_of",
    "store",
    "upload_dir",
]

MAX_FILES = 5
MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000  # a 24 MP phone photo fits; a decompression bomb stops here (the API's setting may lower it)
# Pillow format -> content type and file suffix; nothing else is accepted.
CONTENT_TYPES: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
_SUFFIX = {content_type: suffix for content_type, suffix in CONTENT_TYPES.values()}


class UploadError(ValueError):
    """An uploaded file is refused."""


class FileTooLarge(UploadError):
    """Larger than MAX_BYTES, or more pixels than MAX_PIXELS."""


class UnsupportedImage(UploadError):
    """Not a JPEG, PNG or WebP image, or a broken one."""


class IncompleteImage(UnsupportedImage):
    """Its header promises more pixels than its data holds (a truncated file, or a header that lies)."""


def _jpeg_scan_bytes(data: bytes) -> int:
    """The bytes of a JPEG's entropy-coded scans (its pixels); markers, headers, comments and trailing data are
    not counted."""
    position, scanned = 2, 0
    while position + 4 <= len(data):
        marker = data[position + 1]
        if data[position] != 0xFF or marker == 0xFF:  # a stray byte (libjpeg skips it) or a fill byte
            position += 1
            continue
        if marker == 0xD9:  # EOI
            break
        if marker in _STANDALONE:
            position += 2
            continue
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if marker != 0xDA:  # not a scan: the segment's length is all there is
            continue
        start = position
        while position + 1 < len(data) and not (data[position] == 0xFF and data[position + 1] not in _IN_SCAN):
            position += 1
        scanned += position - start
    return scanned


_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RSTn, SOI: markers without a length
_IN_SCAN = frozenset({0x00, *range(0xD0, 0xD8)})  # a stuffed 0xFF and the restart markers belong to the scan


def _check_complete(data: bytes, width: int, height: int) -> None:
    """A JPEG's scans code at least one bit for every 8x8 block of its luma (the DC value), so a file with fewer
    scan bytes than blocks / 8 holds fewer pixels than its header claims. libjpeg fills the rest with grey and
    only warns, so Pillow's load() keeps it: a 600-byte file would be stored as a 25 MP image."""
    blocks = -(-width // 8) * -(-height // 8)
    if _jpeg_scan_bytes(data) * 8 < blocks:
        raise IncompleteImage(f"image of {width}x{height} pixels has too little data for its size")


@dataclass(frozen=True, slots=True)
class CleanImage:
    """A re-encoded image: only the pixels survive (no EXIF, GPS, comments or colour profiles)."""

    data: bytes
    sha256: str
    content_type: str


def clean_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> CleanImage:
    """Check an upload from its bytes and re-encode it; UploadError if it is not an acceptable image.

    The pixel count is read from the header, before any pixel is decoded: a small file that would expand
    to gigabytes (a decompression bomb) is FileTooLarge, like a file that is too large on the wire.
    """
    if len(data) > MAX_BYTES:
        raise FileTooLarge(f"file larger than {MAX_BYTES} bytes")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format or ""
                width, height = probe.size
                if image_format not in CONTENT_TYPES:
                    raise UnsupportedImage(f"format {image_format or 'unknown'} is not accepted")
                if width * height > max_pixels:
                    raise FileTooLarge(f"image of {width}x{height} pixels is too large")
                probe.verify()
            # verify() leaves the image unusable: open again to decode the pixels.
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # with ImageFile.LOAD_TRUNCATED_IMAGES at its default (False): a short file raises
                if image_format == "JPEG":
                    _check_complete(data, width, height)
                pixels = ImageOps.exif_transpose(image)  # keep the orientation the EXIF tag gave it
        except UploadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise FileTooLarge("image has more pixels than Pillow's bomb limit") from None
        except UnidentifiedImageError as err:
            raise UnsupportedImage(f"not a readable image: {type(err).__name__}") from None
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as err:
            raise UnsupportedImage(f"broken image: {type(err).__name__}") from None
    content_type, _ = CONTENT_TYPES[image_format]
    if image_format == "JPEG":
        clean, options = pixels.convert("RGB"), {"quality": 88, "optimize": True}
    elif image_format == "PNG":
        mode = pixels.mode if pixels.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else "RGBA"
        clean, options = pixels.convert(mode), {"optimize": True}
    else:
        mode = "RGBA" if "A" in pixels.mode or pixels.mode == "P" else "RGB"
        clean, options = pixels.convert(mode), {"quality": 85}
    clean.info = {}  # convert() copies EXIF, XMP, ICC and text chunks along; the encoders would write them
    out = io.BytesIO()
    clean.save(out, format=image_format, **options)
    encoded = out.getvalue()
    return CleanImage(data=encoded, sha256=hashlib.sha256(encoded).hexdigest(), content_type=content_type)


def upload_dir(data_dir: Path) -> Path:
    return data_dir / "uploads"


def path_of(directory: Path, sha256: str, content_type: str) -> Path:
    """Where an image lives: <dir>/ab/abcdef....jpg (two-character fan-out keeps directories small)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return directory / sha256[:2] / f"{sha256}{_SUFFIX[content_type]}"


def store(directory: Path, image: CleanImage) -> Path:
    """Write the image once (same bytes, same name); atomic, so a reader never sees half a file."""
    target = path_of(directory, image.sha256, image.content_type)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(image.data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
