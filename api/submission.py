"""The HTTP side of intake: form fields and uploaded files turned into `lapor.intake`'s request, and the photos of
an async route decoded off its event loop. The rules, their order and the writing are `lapor.intake`'s."""

import dataclasses
from functools import partial

import anyio.to_thread
from fastapi import UploadFile

from api.deps import AppContext
from api.schemas import ReportFields
from lapor import intake, uploads


def photo_rules(context: AppContext) -> intake.PhotoRules:
    """Where this process stores photos and how many it decodes at once."""
    return intake.PhotoRules(
        upload_dir=context.upload_dir,
        max_pixels=context.settings.max_image_pixels,
        max_jpeg_pixels=context.settings.max_jpeg_pixels,
        slots=context.image_slots,
    )


def report_data(fields: ReportFields) -> intake.ReportData:
    """The schemas' checked fields as the core names them."""
    return intake.ReportData(
        title=fields.title,
        description=fields.description,
        category=fields.category,
        kecamatan=fields.kecamatan,
        kelurahan=fields.kelurahan,
        address=fields.address,
        report_type=fields.report_type,
        incident_date=fields.incident_date,
        latitude=fields.latitude,
        longitude=fields.longitude,
        anonymous=fields.anonymous,
        confidential=fields.confidential,
        show_name=fields.show_name,
    )


def _counted(files: list[UploadFile]) -> list[UploadFile]:
    # One file over the limit is enough for the core to refuse the count; the rest is never read.
    return files[: uploads.MAX_FILES + 1]


def read_files(files: list[UploadFile]) -> tuple[bytes, ...]:
    """The uploaded bytes, undecoded (sync routes: the core decodes them after its cheap checks)."""
    return tuple(upload.file.read(uploads.MAX_BYTES + 1) for upload in _counted(files))


async def receive_files(files: list[UploadFile]) -> tuple[bytes, ...]:
    """As read_files, for async routes."""
    return tuple([await upload.read(uploads.MAX_BYTES + 1) for upload in _counted(files)])


async def decode_photos(
    context: AppContext, photos: tuple[bytes | uploads.CleanImage, ...]
) -> list[uploads.CleanImage]:
    """Each photo decoded in a worker thread; a request waiting for an image slot waits on the event loop, so it
    holds neither a thread of the pool nor a database connection. Call it after the core's cheap checks."""
    rules, images = photo_rules(context), []
    for index, photo in enumerate(photos):
        if isinstance(photo, bytes):
            decode = partial(intake.decode_photo, rules, index, photo)
            photo = await anyio.to_thread.run_sync(decode, limiter=context.image_limiter())
        images.append(photo)
    return intake.unique(images)


async def decoded(context: AppContext, request: intake.IntakeRequest) -> intake.IntakeRequest:
    """The request with its photos decoded (after `intake.check`); `intake.accept` then only writes."""
    return dataclasses.replace(request, photos=tuple(await decode_photos(context, request.photos)))
