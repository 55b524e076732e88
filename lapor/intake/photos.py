"""Photos at intake: decoded from their bytes under the limits, re-encoded without metadata, stored before their rows
(a committed row always has its file). Shared by `lapor.intake` and `lapor.replies` (a supplement's photos)."""

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from lapor import uploads
from lapor.models import Photo, PhotoKind, Report
from lapor.refusals import Kind, Refused


class PhotoTooLarge(Refused):
    kind = Kind.TOO_LARGE
    code = "file_too_large"
    message = "Berkas terlalu besar."


class PhotoUnsupported(Refused):
    kind = Kind.UNSUPPORTED
    code = "unsupported_file_type"
    message = "Jenis berkas tidak didukung; kirim foto JPEG, PNG, atau WebP."


@dataclass(frozen=True, slots=True)
class PhotoRules:
    """Where photos go and how much decoding one may cost."""

    upload_dir: Path
    max_pixels: int = uploads.MAX_PIXELS
    max_jpeg_pixels: int = uploads.MAX_JPEG_PIXELS
    slots: AbstractContextManager[object] = field(default_factory=nullcontext)  # photos decoded at once


def decode_photo(rules: PhotoRules, index: int, data: bytes) -> uploads.CleanImage:
    """One photo decoded from its bytes and re-encoded without metadata, holding one of the decoding slots."""
    try:
        with rules.slots:
            return uploads.clean_image(data, max_pixels=rules.max_pixels, max_jpeg_pixels=rules.max_jpeg_pixels)
    except uploads.FileTooLarge:
        raise PhotoTooLarge(
            f"Foto ke-{index + 1} melebihi {uploads.MAX_BYTES // (1024 * 1024)} MB "
            f"atau {rules.max_jpeg_pixels // 1_000_000} megapiksel untuk foto JPEG "
            f"({rules.max_pixels // 1_000_000} megapiksel untuk PNG, WebP, atau JPEG progresif).",
            details={
                "file_index": index,
                "max_bytes": uploads.MAX_BYTES,
                "max_pixels": rules.max_pixels,
                "max_jpeg_pixels": rules.max_jpeg_pixels,
            },
        ) from None
    except uploads.IncompleteImage:
        raise PhotoUnsupported(
            f"Foto ke-{index + 1} rusak atau terpotong: isi gambarnya tidak selengkap ukuran yang tertulis.",
            details={"file_index": index, "reason": "incomplete_image"},
        ) from None
    except uploads.UnsupportedImage:
        raise PhotoUnsupported(
            f"Foto ke-{index + 1} bukan gambar JPEG, PNG, atau WebP yang valid.", details={"file_index": index}
        ) from None


def unique(images: list[uploads.CleanImage]) -> list[uploads.CleanImage]:
    """The same photo sent twice is kept once, in the order first sent."""
    return list({image.sha256: image for image in reversed(images)}.values())[::-1]


def decode_photos(rules: PhotoRules, photos: tuple[bytes | uploads.CleanImage, ...]) -> list[uploads.CleanImage]:
    return unique([p if isinstance(p, uploads.CleanImage) else decode_photo(rules, i, p) for i, p in enumerate(photos)])


def add_photos(
    session: Session,
    upload_dir: Path,
    *,
    report: Report,
    images: list[uploads.CleanImage],
    now: datetime,
    kind: PhotoKind = PhotoKind.REPORT,
    message_id: int | None = None,
) -> list[Photo]:
    """Files first, rows second: a committed row always has its file (a failed commit leaves an orphan file)."""
    photos = []
    for image in images:
        uploads.store(upload_dir, image)
        photo = Photo(
            report_id=report.id,
            message_id=message_id,
            sha256=image.sha256,
            content_type=image.content_type,
            size_bytes=len(image.data),
            kind=kind.value,
            created_at=now,
        )
        session.add(photo)
        photos.append(photo)
    session.flush()
    return photos
