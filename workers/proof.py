"""lapor-proof: the OPD's proof photo, attached in Tasklist, checked from its pixels and kept with the report."""

from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from lapor import audit, reports, signed_links, uploads
from lapor.models import Photo, PhotoKind
from lapor.process.tasks import BpmnError, ExternalTask, ModelError
from lapor.roles import WORKERS_ACCOUNT
from lapor.vocabulary import PROOF_UPLOAD_VARIABLE, ErrorCode
from workers import inputs
from workers.deps import Deps

# Admin Pengaduan and the staff page read the proof photo through a signed link while the report is followed up.
PROOF_LINK_DAYS = timedelta(days=90)
log = structlog.stdlib.get_logger(__name__)


def store_proof_photo(d: Deps, task: ExternalTask) -> dict[str, Any]:
    """Re-encode the photo like a citizen's, refuse one that is unreadable or already another report's (or the
    reporter's own), keep it as the report's proof, and drop the engine's copy; `proofPhotoId`, `proofPhotoUrl`."""
    if d.engine is None:
        raise ModelError(f"{task.activity_id}: the worker has no engine login to read {PROOF_UPLOAD_VARIABLE}")
    try:
        result = _store(
            d,
            task,
            d.engine.variable_data(task.process_instance_id, PROOF_UPLOAD_VARIABLE, max_bytes=uploads.MAX_BYTES),
        )
    except BpmnError:
        d.engine.delete_variable(task.process_instance_id, PROOF_UPLOAD_VARIABLE)
        raise
    # Kept with the report now: the engine holds no copy at runtime, and a later round needs a new photo.
    d.engine.delete_variable(task.process_instance_id, PROOF_UPLOAD_VARIABLE)
    return result


def _store(d: Deps, task: ExternalTask, data: bytes | None) -> dict[str, Any]:
    now = inputs.engine_now(task)
    if not data:
        raise _refused("Foto bukti tidak terlampir.")
    try:
        image = uploads.clean_image(
            data, max_pixels=d.settings.max_image_pixels, max_jpeg_pixels=d.settings.max_jpeg_pixels
        )
    except uploads.FileTooLarge:
        raise _refused("Foto bukti terlalu besar (maksimal 5 MB; PNG dan WebP maksimal 25 megapiksel).") from None
    except uploads.UploadError:
        raise _refused("Berkas yang diunggah bukan foto yang dapat dibaca (JPEG, PNG atau WebP).") from None
    with d.session() as session:
        report = reports.get_by_tracking_id(session, inputs.tracking_id(task))
        _refuse_reused(session, report.id, image.sha256)
        uploads.store(uploads.upload_dir(d.settings.data_dir), image)
        photo = Photo(
            report_id=report.id,
            sha256=image.sha256,
            content_type=image.content_type,
            size_bytes=len(image.data),
            kind=PhotoKind.PROOF.value,
            created_at=now,
        )
        session.add(photo)
        session.flush()
        audit.record(
            session,
            report,
            action=audit.AuditAction.PHOTO_ADDED,
            actor_kind=audit.AuditActor.LAYANAN,
            actor=WORKERS_ACCOUNT,
            at=now,
            detail={
                "photo_id": photo.id,
                "kind": photo.kind,
                "sha256": image.sha256,
                "text": "Foto bukti penyelesaian",
            },
            source_ref=f"proof-task:{task.id}",
        )
        url = signed_links.photo_url(
            photo.id, now + PROOF_LINK_DAYS, d.settings.public_base_url, key=signed_links.signing_key(d.settings)
        )
        log.info("proof.stored", report_id=report.id, photo_id=photo.id)
        return {"proofPhotoId": photo.id, "proofPhotoUrl": url, "proofPhotoRefusal": ""}


def _refuse_reused(session: Session, report_id: int, sha256: str) -> None:
    """A proof must be new: not one of the reporter's photos, not another report's photo."""
    for row in session.scalars(select(Photo).where(Photo.sha256 == sha256)):
        if row.report_id != report_id:
            raise _refused("Foto ini sudah dipakai pada laporan lain; unggah foto dari lokasi laporan ini.")
        if row.kind == PhotoKind.REPORT.value:
            raise _refused("Foto ini adalah foto kiriman pelapor, bukan foto hasil pekerjaan.")


def _refused(reason: str) -> BpmnError:
    return BpmnError(ErrorCode.PROOF_PHOTO_UNREADABLE.value, reason, {"proofPhotoRefusal": reason})
