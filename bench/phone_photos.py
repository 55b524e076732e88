"""`python -m bench.phone_photos [--photos 3] [--runs 1] [--no-plain]`: photos from real phones (issue 22).

1. The citizen page in headless Chromium (tests/chromium.py) at DevTools' "Fast 3G" (Network.emulateNetworkConditions:
   1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip): a signed-in reporter fills the report form with three
   12 MP phone-like JPEGs (about 4 MB each), and the clock runs from pressing "Kirim laporan" to the confirmation on
   the tracking page; once with the page's JavaScript (photos shrunk in the browser, `api/web/static/foto.js`) and
   once with JavaScript off (the plain form sends the photos as taken).
2. The server's CPU for one 108 MP JPEG (12000x9000, about 30 MB): `time.process_time` around
   `lapor.uploads.clean_image` in this process, and the same photo decoded in full (without draft mode) beside it.

The API runs in this process (uvicorn on loopback, SQLite in a temporary directory, no engine, no rate limits); the
photos are generated: a smooth sky over a textured ground whose detail falls off as 1/f, like natural scenes, plus
sensor noise, saved at a phone's JPEG quality (95). A benchmark, not a test: the figures go in docs/benchmarks.md.
"""

import argparse
import io
import statistics
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from PIL import Image, ImageChops, ImageDraw, ImageOps
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from api.main import create_app
from faults.topology import free_port, load_average
from lapor import contact_codes, reporters, uploads
from lapor.db import make_engine, session_scope
from lapor.migrate import upgrade
from lapor.settings import Settings
from tests.chromium import chromium

FAST_3G = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8}
PHONE_12_MP = (4000, 3000)
PHONE_108_MP = (12000, 9000)
CONFIRMATION = "Laporan Anda telah diterima"


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    note: str = ""
    load: str = field(default_factory=load_average)


# -- phone-like photos ----------------------------------------------------------------------------------------------
def _octave(size: tuple[int, int], grain: int, sigma: float, chroma: float) -> Image.Image:
    small = (max(2, size[0] // grain), max(2, size[1] // grain))
    luma = Image.effect_noise(small, sigma)
    bands = [ImageChops.add(luma, Image.effect_noise(small, chroma), 1.0, -128) if chroma else luma for _ in "RGB"]
    return Image.merge("RGB", bands).resize(size, Image.Resampling.BICUBIC)


def phone_photo(size: tuple[int, int] = PHONE_12_MP, *, sigma: float = 7, sensor: float = 3) -> bytes:
    """A street-side photo as a phone saves it: a smooth sky above, below it a ground whose detail has the same
    contrast in every octave (the 1/f spectrum of natural scenes), sensor noise everywhere, JPEG quality 95; a
    12 MP one is about 4 MB, as the issue's phone photos are."""
    ground = Image.new("RGB", size, (110, 105, 95))
    for octave in range(1, 11):
        grain = 2**octave
        ground = ImageChops.add(ground, _octave(size, grain, sigma, sigma / 2 if grain >= 64 else 0), 1.0, -128)
    sky = ImageOps.colorize(Image.linear_gradient("L").resize(size), (110, 150, 220), (200, 210, 225))
    below = Image.new("L", size, 0)
    ImageDraw.Draw(below).rectangle((0, int(size[1] * 0.35), size[0], size[1]), fill=255)
    scene = Image.composite(ground, sky, below)
    scene = ImageChops.add(scene, Image.merge("RGB", [Image.effect_noise(size, sensor)] * 3), 1.0, -128)
    out = io.BytesIO()
    scene.save(out, format="JPEG", quality=95)
    return out.getvalue()


def photo_108_mp() -> bytes:
    """A 108 MP JPEG of a phone's size (about 30 MB: colour noise blown up to soft blobs, quality 92)."""
    width, height = PHONE_108_MP
    tile = Image.merge("RGB", [Image.effect_noise((width // 8, height // 8), 64) for _ in "RGB"])
    out = io.BytesIO()
    tile.resize(PHONE_108_MP, Image.Resampling.BILINEAR).save(out, format="JPEG", quality=92)
    return out.getvalue()


# -- the server's CPU ---------------------------------------------------------------------------------------------
def full_decode(data: bytes) -> bytes:
    """What the server did before draft mode: every pixel decoded, then shrunk and re-encoded the same way."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # 108 MP is over Pillow's 89 MP warning
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            pixels = ImageOps.exif_transpose(image)
    pixels.thumbnail((uploads.STORED_SIDE, uploads.STORED_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    pixels.convert("RGB").save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue()


def cpu_seconds(work: Callable[[], object], runs: int) -> list[float]:
    spent = []
    for _ in range(runs):
        started = time.process_time()
        work()
        spent.append(time.process_time() - started)
    return spent


def server_cpu(runs: int) -> list[Figure]:
    data = photo_108_mp()
    megabytes = f"{len(data) / 2**20:.1f} MiB"
    clean = cpu_seconds(lambda: uploads.clean_image(data), runs)
    full = cpu_seconds(lambda: full_decode(data), 1)
    return [
        Figure(
            "108 MP JPEG, server CPU (`clean_image`, draft mode)",
            statistics.median(clean),
            "s",
            f"median of {runs}, max {max(clean):.2f} s; 12000x9000, {megabytes}, stored at 2048x1536; goal <= 1 s",
        ),
        Figure("108 MP JPEG decoded in full (no draft mode)", full[0], "s", "the same photo, for comparison"),
    ]


# -- the page in Chromium, throttled -------------------------------------------------------------------------------
@dataclass
class Api:
    url: str
    token: str
    received: list[tuple[tuple[int, int], int, float]]  # (size in pixels, bytes, decode CPU s) per photo
    arrivals: list[float]  # time.monotonic() when the server began decoding each report's first photo


@contextmanager
def api(root: Path, photos: int) -> Iterator[Api]:
    """The API on loopback with a signed-in reporter; records each photo as the server received it."""
    root.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{root / 'lapor.db'}"
    upgrade(url)
    db = make_engine(url)
    port = free_port()
    settings = Settings(
        environment="test",
        database_url=url,
        data_dir=root / "data",
        public_base_url=f"http://127.0.0.1:{port}",
        file_signing_key="bench-file-signing-key",
        audit_key="bench-audit-key",
        outbox_dispatcher_enabled=False,
    )
    now = datetime.now(UTC)
    with session_scope(db) as session:
        started = contact_codes.create(
            session, name="Siti Rahmawati", email="siti.bench@example.id", phone=None, now=now
        )
        assert started.email_code is not None
        proven = contact_codes.check(
            session, public_id=started.registration.public_id, code=started.email_code, now=now
        )
        token = reporters.issue_token(session, registration=proven, now=now).token
    received: list[tuple[tuple[int, int], int, float]] = []
    arrivals: list[float] = []
    clean = uploads.clean_image

    def recording(data: bytes, **limits: int) -> uploads.CleanImage:
        if len(received) % photos == 0:  # the body has arrived whole: the first photo is being decoded
            arrivals.append(time.monotonic())
        began = time.thread_time()
        image = clean(data, **limits)
        with Image.open(io.BytesIO(data)) as sent:
            received.append((sent.size, len(data), time.thread_time() - began))
        return image

    uploads.clean_image = recording  # what the server received, in this run only
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, db=db, run_dispatcher=False, limits={}), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield Api(settings.public_base_url, token, received, arrivals)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        uploads.clean_image = clean
        db.dispose()


def submit(api: Api, photos: list[Path], *, javascript: bool, folder: Path) -> tuple[float, float]:
    """When "Kirim laporan" was pressed and when the confirmation showed (time.monotonic), at Fast 3G; a
    screenshot of the end."""
    driver = chromium(1280, 900, javascript=javascript, wait_for_pages=False)
    loaded = WebDriverWait(driver, 30, ignored_exceptions=[Exception])
    try:
        driver.get(api.url + "/")
        loaded.until(lambda d: d.execute_script("return document.readyState") == "complete")
        driver.add_cookie({"name": "lapor_sesi", "value": api.token, "path": "/"})
        driver.get(api.url + "/lapor")  # its script (deferred) has run once the document is complete
        loaded.until(lambda d: d.execute_script("return document.readyState") == "complete")
        driver.find_element(By.NAME, "title").send_keys("Jalan berlubang di depan SDN 12")
        driver.find_element(By.NAME, "description").send_keys("Lubang besar di badan jalan, membahayakan pengendara.")
        Select(driver.find_element(By.NAME, "category")).select_by_visible_text("Jalan dan Jembatan")
        driver.find_element(By.CSS_SELECTOR, "select[name=lokasi] option[value='61.71.01/61.71.01.1002']").click()
        driver.find_element(By.NAME, "address").send_keys("Jl. Tanjungpura No. 1")
        driver.find_element(By.NAME, "photos").send_keys("\n".join(str(photo) for photo in photos))
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", FAST_3G)
        button = driver.find_element(By.CSS_SELECTOR, "form button[type=submit]")
        started = time.monotonic()
        button.click()
        WebDriverWait(driver, 600, poll_frequency=0.05, ignored_exceptions=[Exception]).until(
            lambda d: "/lacak/" in d.current_url and CONFIRMATION in d.find_element(By.TAG_NAME, "body").text
        )
        confirmed = time.monotonic()
        driver.save_screenshot(str(folder / f"terkirim-{'dengan' if javascript else 'tanpa'}-javascript.png"))
        return started, confirmed
    finally:
        driver.quit()


def page_figures(photos: int, runs: int, plain: bool, folder: Path) -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory(prefix="lapor-bench-photos-") as temporary:
        root = Path(temporary)
        paths = []
        for index in range(photos):
            path = root / f"IMG_20261207_10150{index}.jpg"
            path.write_bytes(phone_photo())
            paths.append(path)
        sizes = ", ".join(f"{path.stat().st_size / 2**20:.1f}" for path in paths)
        for javascript in (True, False) if plain else (True,):
            with api(root / ("js" if javascript else "plain"), photos) as server:
                timings = [submit(server, paths, javascript=javascript, folder=folder) for _ in range(runs)]
                sent = server.received[:photos]
            seconds = [end - start for start, end in timings]
            arrived = [arrival - start for (start, _), arrival in zip(timings, server.arrivals, strict=True)]
            what = "photos shrunk in the browser" if javascript else "JavaScript off, photos as taken"
            received = ", ".join(f"{w}x{h} {length / 2**10:.0f} KiB" for (w, h), length, _ in sent)
            decode = sum(cpu for _, _, cpu in server.received) / max(1, runs)
            figures.append(
                Figure(
                    f"{photos} x 12 MP at Fast 3G, {what}",
                    statistics.median(seconds),
                    "s",
                    f"median of {runs} ({', '.join(f'{s:.1f}' for s in seconds)}); the body had arrived after "
                    f"{', '.join(f'{s:.1f}' for s in arrived)} s; photos {sizes} MiB as taken; "
                    f"server received {received}; server decode {decode:.2f} s CPU per report",
                )
            )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=3)
    parser.add_argument("--runs", type=int, default=1, help="submissions per mode (JavaScript on, off)")
    parser.add_argument("--cpu-runs", type=int, default=5)
    parser.add_argument("--no-plain", dest="plain", action="store_false", help="skip the run without JavaScript")
    parser.add_argument("--screenshots", type=Path, default=Path("var/bench-phone-photos"))
    args = parser.parse_args()
    args.screenshots.mkdir(parents=True, exist_ok=True)
    print("| figure | value | unit | load average | notes |")
    print("| --- | ---: | --- | --- | --- |")
    for figure in (*server_cpu(args.cpu_runs), *page_figures(args.photos, args.runs, args.plain, args.screenshots)):
        print(f"| {figure.name} | {figure.value:.2f} | {figure.unit} | {figure.load} | {figure.note} |", flush=True)


if __name__ == "__main__":
    main()
