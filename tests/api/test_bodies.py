"""Request bodies capped while they stream in, photos bounded in pixels and in how many decode at once."""

import io
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.types import Message, Receive, Scope, Send

from api.main import BodySizeLimit, create_app
from lapor import uploads
from lapor.models import Photo
from tests.api.conftest import REPORT_FIELDS, ApiTestSettings, Clock, Person, photo_files


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims width x height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + chunk(b"IEND", b"")
    )


def _post_photo(client: TestClient, person: Person, data: bytes) -> tuple[int, str]:
    response = client.post(
        "/reports", data=REPORT_FIELDS, files=[("photos", ("foto.png", data, "image/png"))], headers=person.auth
    )
    return response.status_code, response.json()["error"]["code"] if response.status_code >= 400 else ""


def test_a_decompression_bomb_is_413(client: TestClient, citizen: Person) -> None:
    assert _post_photo(client, citizen, png_header_only(30000, 30000)) == (413, "file_too_large")


def test_a_photo_above_the_pixel_ceiling_is_413_without_decoding(client: TestClient, citizen: Person) -> None:
    out = io.BytesIO()
    Image.new("L", (6000, 6000)).save(out, format="PNG")  # 36 MP in a few kilobytes
    began = time.perf_counter()
    assert _post_photo(client, citizen, out.getvalue()) == (413, "file_too_large")
    assert time.perf_counter() - began < 1.0


def test_a_chunked_body_without_length_is_capped(settings: ApiTestSettings, db_engine: Engine, citizen: Person) -> None:
    small = create_app(settings.model_copy(update={"max_body_bytes": 256 * 1024}), db=db_engine, run_dispatcher=False)

    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * 16384  # 1 MB in all, no Content-Length

    with TestClient(small) as client:
        # Without credentials the body is not read at all: 401 (tests/api/test_hostile_intake.py); with them, 413.
        for headers, code in (({}, "unauthorized"), (citizen.auth, "payload_too_large")):
            response = client.post(
                "/reports", content=chunks(), headers={**headers, "Content-Type": "multipart/form-data; boundary=x"}
            )
            assert response.json()["error"]["code"] == code, response.text


async def test_the_body_stops_being_read_at_the_limit() -> None:
    read = 0
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:  # an app that would read everything
            message = await receive()
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> Message:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": read < 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "headers": [(b"transfer-encoding", b"chunked")]}
    await BodySizeLimit(app, max_bytes=10_000)(scope, receive, send)
    assert read == 11  # 11 kB read of the 1 MB on offer
    assert sent[0]["status"] == 413 and len(sent) == 2


def test_photos_decode_a_few_at_a_time(
    settings: ApiTestSettings, db_engine: Engine, api_clock: Clock, citizen: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = peak = 0
    lock = threading.Lock()
    clean = uploads.clean_image

    def slow_clean(data: bytes, **options: int) -> uploads.CleanImage:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return clean(data, **options)

    monkeypatch.setattr(uploads, "clean_image", slow_clean)
    one_at_a_time = settings.model_copy(update={"image_decode_concurrency": 1})
    app = create_app(one_at_a_time, db=db_engine, run_dispatcher=False, limits={}, clock=api_clock)
    with TestClient(app) as client, ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    client.post("/reports", data=REPORT_FIELDS, files=photo_files(2), headers=citizen.auth).status_code
                ),
                range(8),
            )
        )
    assert statuses == [201] * 8 and peak == 1


# -- photos as real phones take them (issue 22) --------------------------------------------------------------------
def phone_like_jpeg(width: int, height: int, *, quality: int = 92, grain: int = 8, **options: Any) -> bytes:
    """A photo-sized JPEG with photo-like detail (colour noise blown up to soft blobs), one scan as a phone writes
    it unless `options` say otherwise; its size per pixel is a phone's (a 108 MP one is about 30 MB)."""
    tile = Image.merge("RGB", [Image.effect_noise((width // grain, height // grain), 64) for _ in range(3)])
    out = io.BytesIO()
    tile.resize((width, height), Image.Resampling.BILINEAR).save(out, format="JPEG", quality=quality, **options)
    return out.getvalue()


def claiming(width: int, height: int, *, progressive: bool = False) -> bytes:
    """A 16x16 JPEG whose frame header claims width x height pixels."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(out, format="JPEG", progressive=progressive)
    data = bytearray(out.getvalue())
    frame = data.index(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture(scope="module")
def photo_108_mp() -> bytes:
    return phone_like_jpeg(12000, 9000)


def _stored_sizes(app: FastAPI) -> list[tuple[int, int]]:
    context = app.state.context
    with Session(context.db) as session:
        photos = session.scalars(select(Photo)).all()
        paths = [uploads.path_of(context.upload_dir, p.sha256, p.content_type) for p in photos]
    sizes = []
    for path in paths:
        with Image.open(path) as stored:
            sizes.append(stored.size)
    return sizes


def test_a_108_mp_phone_photo_is_accepted_decoded_at_reduced_scale_and_stored_at_2048(
    app: FastAPI, client: TestClient, citizen: Person, photo_108_mp: bytes
) -> None:
    assert len(photo_108_mp) > 20 * 1024 * 1024  # the 24-31 MB of a real one
    started = time.process_time()
    image = uploads.clean_image(photo_108_mp)
    spent = time.process_time() - started
    assert spent < 1.0, f"a 108 MP JPEG cost {spent:.2f} s of CPU"  # in full it costs several seconds
    with Image.open(io.BytesIO(image.data)) as stored:
        assert stored.size == (2048, 1536) and not stored.getexif()
    files = [("photos", ("IMG_20261207_101500.jpg", photo_108_mp, "image/jpeg"))]
    answer = client.post("/reports", data=REPORT_FIELDS, files=files, headers=citizen.auth)
    assert answer.status_code == 201, answer.text
    assert _stored_sizes(app) == [(2048, 1536)]


def test_five_12_mp_phone_photos_above_the_old_27_mb_cap_fit_in_one_body(
    app: FastAPI, client: TestClient, citizen: Person, settings: ApiTestSettings
) -> None:
    photos = [phone_like_jpeg(4000, 3000, quality=95, grain=4) for _ in range(5)]  # about 6.4 MB each
    assert all(5 * 2**20 < len(photo) for photo in photos)  # each over the old 5 MB cap, as many phones' are
    assert 27 * 2**20 < sum(len(photo) for photo in photos) < settings.max_body_bytes
    files = [("photos", (f"IMG_{i}.jpg", photo, "image/jpeg")) for i, photo in enumerate(photos)]
    answer = client.post("/reports", data=REPORT_FIELDS, files=files, headers=citizen.auth)
    assert answer.status_code == 201, answer.text
    assert _stored_sizes(app) == [(2048, 1536)] * 5


@pytest.mark.parametrize(
    ("width", "height"),
    [(16320, 12240), (12800, 9600)],  # 200 MP (over Pillow's own hard limit) and 123 MP (over ours only)
)
def test_a_jpeg_claiming_more_than_108_mp_is_413_from_its_header(
    client: TestClient, citizen: Person, width: int, height: int
) -> None:
    lying = claiming(width, height)
    started = time.process_time()
    with pytest.raises(uploads.FileTooLarge):
        uploads.clean_image(lying)
    assert time.process_time() - started < 0.05
    files = [("photos", ("foto.jpg", lying, "image/jpeg"))]
    answer = client.post("/reports", data=REPORT_FIELDS, files=files, headers=citizen.auth)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "file_too_large"
    assert answer.json()["error"]["details"]["max_jpeg_pixels"] == 110_000_000


def test_png_webp_and_progressive_jpegs_keep_the_25_mp_cap(client: TestClient, citizen: Person) -> None:
    """Each pixel of these is decoded in full (and libjpeg holds a multi-scan JPEG whole), so a size a one-scan
    JPEG may have is refused for them."""
    png = io.BytesIO()
    Image.new("L", (7000, 5000)).save(png, format="PNG")  # 35 MP in a few kilobytes
    webp = io.BytesIO()
    Image.new("RGB", (7000, 5000)).save(webp, format="WEBP", quality=10)
    for data in (png.getvalue(), webp.getvalue(), claiming(7000, 5000, progressive=True)):
        with pytest.raises(uploads.FileTooLarge):
            uploads.clean_image(data)
        assert _post_photo(client, citizen, data) == (413, "file_too_large")
    # The same size in one scan is a phone photo: kept.
    assert uploads.clean_image(phone_like_jpeg(7000, 5000, grain=50)).content_type == "image/jpeg"
    assert _post_photo(client, citizen, png_header_only(30000, 30000)) == (413, "file_too_large")


def test_a_jpeg_in_several_scans_counts_as_progressive(monkeypatch: pytest.MonkeyPatch) -> None:
    """A baseline JPEG whose components come in separate scans is buffered whole by libjpeg as a progressive one."""
    out = io.BytesIO()
    Image.new("L", (64, 64), 128).save(out, format="JPEG")
    data = out.getvalue()
    scan = data.index(b"\xff\xda")
    twice = data[:-2] + data[scan:-2] + data[-2:]  # the one scan again: two scans
    assert uploads._jpeg_layout(data).scans == 1 and uploads._jpeg_layout(twice).scans == 2
    with pytest.raises(uploads.FileTooLarge):
        uploads.clean_image(twice, max_pixels=64 * 64 - 1)


def test_a_phone_jpeg_carrying_a_second_image_is_kept_as_its_first(client: TestClient, citizen: Person) -> None:
    """Phones append a depth or HDR gain map to their JPEGs (Multi-Picture Format), which Pillow opens as MPO."""
    photo, gain_map = Image.new("RGB", (4000, 3000), (90, 120, 160)), Image.new("L", (1000, 750), 128)
    out = io.BytesIO()
    photo.save(out, format="MPO", save_all=True, append_images=[gain_map])
    with Image.open(io.BytesIO(out.getvalue())) as opened:
        assert (opened.format, getattr(opened, "n_frames", 1)) == ("MPO", 2)
    image = uploads.clean_image(out.getvalue())
    assert image.content_type == "image/jpeg"
    with Image.open(io.BytesIO(image.data)) as stored:
        assert (stored.format, stored.size, getattr(stored, "n_frames", 1)) == ("JPEG", (2048, 1536), 1)
    files = [("photos", ("IMG_20261207_101900.jpg", out.getvalue(), "image/jpeg"))]
    assert client.post("/reports", data=REPORT_FIELDS, files=files, headers=citizen.auth).status_code == 201


def test_a_portrait_photo_stored_sideways_with_an_orientation_tag_is_kept_upright_and_shrunk() -> None:
    """Phones store a portrait photo as landscape pixels with EXIF orientation 6 (rotate 90° clockwise)."""
    sideways = Image.new("RGB", (4000, 3000), "white")
    sideways.paste((200, 30, 30), (0, 0, 400, 3000))  # red on the left edge: the top once turned upright
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    sideways.save(out, format="JPEG", exif=exif)
    with Image.open(io.BytesIO(uploads.clean_image(out.getvalue()).data)) as stored:
        assert stored.size == (1536, 2048) and not stored.getexif()
        red, green, _ = stored.convert("RGB").getpixel((768, 20))
        assert red > 150 and green < 100, "the top of the upright photo is the red edge"
