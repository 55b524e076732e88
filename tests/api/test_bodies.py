"""Request bodies capped while they stream in, photos bounded in pixels and in how many decode at once."""

import io
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from starlette.types import Message, Receive, Scope, Send

from api.main import BodySizeLimit, create_app
from lapor import uploads
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
