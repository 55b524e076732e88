"""Photo uploads: type checked from the bytes, re-encoded without metadata, stored content-addressed on disk."""

import hashlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "CONTENT_TYPES",
    "MAX_BYTES",
    "MAX_FILES",
    "MAX_JPEG_PIXELS",
    "MAX_PIXELS",
    "STORED_SIDE",
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
# A 108 MP phone photo is 24-31 MB on average (Galaxy S20 Ultra, PhoneArena's samples), more in a detailed scene.
MAX_BYTES = 40 * 1024 * 1024
# PNG, WebP and JPEGs in several scans (progressive): decoding costs every pixel, and libjpeg holds a multi-scan
# JPEG whole in memory, so a 24 MP photo fits and a decompression bomb stops here (the API's setting may lower it).
MAX_PIXELS = 25_000_000
# A JPEG in one scan, as every phone camera and browser writes it: decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT
# scaling, Pillow's draft mode), row by row, so a 108 MP photo (12000x9000, or 12032x9024) costs little.
MAX_JPEG_PIXELS = 110_000_000
STORED_SIDE = 2048  # longest side of a stored photo: what the citizen page sends when it downscales in the browser
# Pillow format -> content type and file suffix; nothing else is accepted.
CONTENT_TYPES: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
_SUFFIX = {content_type: suffix for content_type, suffix in CONTENT_TYPES.values()}
# A JPEG that carries more images after its own (a depth map, an HDR gain map, a preview: CIPA's Multi-Picture
# Format, which phones write) is opened by Pillow as MPO; its first image is the photo, kept as a JPEG.
_SAME_AS = {"MPO": "JPEG"}


class UploadError(ValueError):
    """An uploaded file is refused."""


class FileTooLarge(UploadError):
    """Larger than MAX_BYTES, or more pixels than MAX_PIXELS."""


class UnsupportedImage(UploadError):
    """Not a JPEG, PNG or WebP image, or a broken one."""


class IncompleteImage(UnsupportedImage):
    """Its header promises more pixels than its data holds (a truncated file, or a header that lies)."""


@dataclass(frozen=True, slots=True)
class _JpegLayout:
    scan_bytes: int  # the bytes of its entropy-coded scans (its pixels)
    scans: int


def _jpeg_layout(data: bytes) -> _JpegLayout:
    """How a JPEG's pixels are coded: the bytes of its scans and how many scans there are; markers, headers,
    comments and trailing data are not counted."""
    position, scanned, scans = 2, 0, 0
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
        start, scans = position, scans + 1
        end = _SCAN_END.search(data, start)  # found in C: a 30 MB scan is not walked byte by byte in Python
        position = end.start() if end is not None else max(start, len(data) - 1)
        scanned += position - start
    return _JpegLayout(scanned, scans)


_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RSTn, SOI: markers without a length
# A scan ends at the first marker that is not a stuffed 0xFF (FF 00) or a restart marker (FF D0..D7).
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")


def _check_complete(layout: _JpegLayout, width: int, height: int) -> None:
    """A JPEG's scans code at least one bit for every 8x8 block of its luma (the DC value), so a file with fewer
    scan bytes than blocks / 8 holds fewer pixels than its header claims. libjpeg fills the rest with grey and
    only warns, so Pillow's load() keeps it: a 600-byte file would be stored as a 25 MP image."""
    blocks = -(-width // 8) * -(-height // 8)
    if layout.scan_bytes * 8 < blocks:
        raise IncompleteImage(f"image of {width}x{height} pixels has too little data for its size")


@dataclass(frozen=True, slots=True)
class CleanImage:
    """A re-encoded image: only the pixels survive (no EXIF, GPS, comments or colour profiles)."""

    data: bytes
    sha256: str
    content_type: str


def _stored_size(width: int, height: int) -> tuple[int, int]:
    """The size a photo is stored at: its own, or shrunk to STORED_SIDE on its longest side."""
    scale = min(1.0, STORED_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _probe(data: bytes, *, max_pixels: int, max_jpeg_pixels: int) -> str:
    """The format, from the header and a JPEG's markers alone: FileTooLarge before any pixel is decoded."""
    with Image.open(io.BytesIO(data)) as probe:
        image_format = _SAME_AS.get(probe.format or "", probe.format or "")
        width, height = probe.size
        if image_format not in CONTENT_TYPES:
            raise UnsupportedImage(f"format {image_format or 'unknown'} is not accepted")
        layout = _jpeg_layout(data) if image_format == "JPEG" else None
        limit = max_jpeg_pixels if layout is not None and layout.scans <= 1 else max_pixels
        if width * height > limit:
            raise FileTooLarge(f"image of {width}x{height} pixels is too large")
        if layout is not None:
            _check_complete(layout, width, height)
        probe.verify()
    return image_format


def clean_image(data: bytes, *, max_pixels: int = MAX_PIXELS, max_jpeg_pixels: int = MAX_JPEG_PIXELS) -> CleanImage:
    """Check an upload from its bytes and re-encode it, at most STORED_SIDE on its longest side; UploadError if it
    is not an acceptable image.

    The pixel count is read from the header, before any pixel is decoded: a small file that would expand
    to gigabytes (a decompression bomb) is FileTooLarge, like a file that is too large on the wire. A JPEG in one
    scan may have up to `max_jpeg_pixels` (libjpeg decodes it at a reduced scale), anything else `max_pixels`.
    """
    if len(data) > MAX_BYTES:
        raise FileTooLarge(f"file larger than {MAX_BYTES} bytes")
    with warnings.catch_warnings():
        # The limits above are this function's own, per format and checked first; Pillow's one bomb limit
        # (89 MP) would refuse a 108 MP photo. Its hard limit (twice that) still raises DecompressionBombError.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image_format = _probe(data, max_pixels=max_pixels, max_jpeg_pixels=max_jpeg_pixels)
            # verify() leaves the image unusable: open again to decode the pixels.
            with Image.open(io.BytesIO(data)) as image:
                if image_format == "JPEG":  # DCT scaling: decode at the smallest 1/8 step still >= the stored size
                    image.draft("RGB", _stored_size(*image.size))
                image.load()  # with ImageFile.LOAD_TRUNCATED_IMAGES at its default (False): a short file raises
                pixels = ImageOps.exif_transpose(image)  # keep the orientation the EXIF tag gave it
                pixels.thumbnail((STORED_SIDE, STORED_SIDE), Image.Resampling.LANCZOS)
        except UploadError:
            raise
        except Image.DecompressionBombError:
            raise FileTooLarge("image has more pixels than Pillow's bomb limit") from None
        except UnidentifiedImageError as err:
            raise UnsupportedImage(f"not a readable image: {type(err).__name__}") from None
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as err:
            raise UnsupportedImage(f"broken image: {type(err).__name__}") from None
    return _encode(pixels, image_format)


def _encode(pixels: Image.Image, image_format: str) -> CleanImage:
    """The pixels alone, in the format they came in."""
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
