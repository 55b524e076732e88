"""lapor-proof: the OPD's proof photo from the engine, checked from its pixels, kept with the report, or sent back."""

import io
from dataclasses import dataclass, field

import pytest
from PIL import Image
from sqlalchemy import select

from lapor import signed_links, uploads
from lapor.models import Photo
from lapor.process.tasks import BpmnError, ModelError
from lapor.vocabulary import PROOF_UPLOAD_VARIABLE, ErrorCode, Topic
from tests.unit.conftest import SessionFactory
from tests.unit.workers.conftest import BASE_URL, ENGINE_NOW, Installed, TaskFactory, add_report
from workers.proof import PROOF_LINK_DAYS, store_proof_photo


def jpeg(color: tuple[int, int, int] = (120, 90, 60), size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG")
    return out.getvalue()


@dataclass
class EngineFiles:
    """The two calls the handler makes to the engine: read the File variable, delete it."""

    data: bytes | None
    deleted: list[str] = field(default_factory=list)
    asked_at_most: int | None = None

    def variable_data(self, instance_id: str, name: str, *, max_bytes: int) -> bytes | None:
        assert name == PROOF_UPLOAD_VARIABLE
        self.asked_at_most = max_bytes
        return self.data

    def delete_variable(self, instance_id: str, name: str) -> None:
        self.deleted.append(name)


def with_engine(installed: Installed, data: bytes | None) -> EngineFiles:
    fake = EngineFiles(data)
    installed.deps.engine = fake  # type: ignore[assignment]
    return fake


def test_a_photo_is_kept_as_the_reports_proof_and_the_engine_copy_is_deleted(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    report = add_report(session_factory, opd_code="PUPR")
    engine = with_engine(installed, jpeg())
    result = store_proof_photo(installed.deps, task(Topic.PROOF))
    assert engine.deleted == [PROOF_UPLOAD_VARIABLE] and engine.asked_at_most == uploads.MAX_BYTES
    with session_factory() as session:
        photo = session.scalars(select(Photo)).one()
        assert (photo.report_id, photo.kind, photo.content_type) == (report.id, "proof", "image/jpeg")
    assert uploads.path_of(uploads.upload_dir(installed.settings.data_dir), photo.sha256, "image/jpeg").is_file()
    assert result["proofPhotoId"] == photo.id and result["proofPhotoRefusal"] == ""
    url = result["proofPhotoUrl"]
    assert url.startswith(f"{BASE_URL}/files/photos/{photo.id}?expires=")
    expires = int(ENGINE_NOW.timestamp() + PROOF_LINK_DAYS.total_seconds())
    signature = url.split("signature=")[1]
    key = signed_links.signing_key(installed.settings)
    signed_links.check(signed_links.photo_path(photo.id), expires, signature, key=key, now=ENGINE_NOW)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (None, "Foto bukti tidak terlampir."),
        (b"%PDF-1.4 bukan foto", "bukan foto yang dapat dibaca"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "bukan foto yang dapat dibaca"),  # a JPEG header, nothing behind
    ],
)
def test_a_missing_or_unreadable_photo_goes_back_to_the_opd_with_the_reason(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory, data: bytes | None, reason: str
) -> None:
    add_report(session_factory, opd_code="PUPR")
    engine = with_engine(installed, data)
    with pytest.raises(BpmnError) as refused:
        store_proof_photo(installed.deps, task(Topic.PROOF))
    assert refused.value.code == ErrorCode.PROOF_PHOTO_UNREADABLE
    assert reason in refused.value.message and refused.value.variables["proofPhotoRefusal"] == refused.value.message
    assert engine.deleted == [PROOF_UPLOAD_VARIABLE]  # the OPD attaches a new one
    with session_factory() as session:
        assert session.scalars(select(Photo)).all() == []


def test_the_reporters_own_photo_is_not_a_proof(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    report = add_report(session_factory, opd_code="PUPR")
    own = uploads.clean_image(jpeg((10, 200, 30)))
    with session_factory() as session:
        session.add(Photo(report_id=report.id, sha256=own.sha256, content_type=own.content_type,
                          size_bytes=len(own.data), kind="report", created_at=ENGINE_NOW))  # fmt: skip
    with_engine(installed, jpeg((10, 200, 30)))
    with pytest.raises(BpmnError, match="foto kiriman pelapor"):
        store_proof_photo(installed.deps, task(Topic.PROOF))


def test_without_an_engine_login_the_model_cannot_work(
    installed: Installed, session_factory: SessionFactory, task: TaskFactory
) -> None:
    add_report(session_factory, opd_code="PUPR")
    installed.deps.engine = None
    with pytest.raises(ModelError, match=PROOF_UPLOAD_VARIABLE):
        store_proof_photo(installed.deps, task(Topic.PROOF))
