"""Small copies of stored photos for lists (the public feed, the nearby panel): made once, kept beside the photos.

A phone showing twenty reports should not fetch twenty full photos. The first request for a photo's thumbnail
decodes the stored photo once (already re-encoded at intake, at most a few megapixels), writes a JPEG of at most
`SIDE` pixels on its longer side under `<upload_dir>/thumbs/`, atomically, and every later request reads that file.
"""

import os
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from lapor.uploads import path_of

SIDE = 320
QUALITY = 80


class ThumbnailUnavailable(Exception):
    """The stored photo is missing or unreadable; the list shows no picture for it."""


def thumbnail(upload_dir: Path, sha256: str, content_type: str) -> Path:
    """The thumbnail file of a stored photo, made on first use."""
    target = upload_dir / "thumbs" / f"{sha256}-{SIDE}.jpg"
    if target.is_file():
        return target
    source = path_of(upload_dir, sha256, content_type)
    if not source.is_file():
        raise ThumbnailUnavailable(str(source))
    try:
        with Image.open(source) as image:
            image.draft("RGB", (SIDE, SIDE))  # JPEG: decode at a fraction of the size
            small = ImageOps.exif_transpose(image).convert("RGB")
            small.thumbnail((SIDE, SIDE))
    except (OSError, ValueError) as err:
        raise ThumbnailUnavailable(f"{source}: {err}") from err
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            small.save(out, format="JPEG", quality=QUALITY, optimize=True)
        os.replace(temporary, target)  # two requests at once: both write, one file wins whole
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
