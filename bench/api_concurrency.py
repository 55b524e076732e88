"""Concurrency benchmark of the citizen API: N reporters submit a report with photos at the same moment.

    .venv/bin/python bench/api_concurrency.py                      # starts its own API on PostgreSQL
    .venv/bin/python bench/api_concurrency.py --url http://127.0.0.1:8000 --database-url ...  # a running API

It prepares N reporters with tokens directly in the database (registration has its own limits), starts
uvicorn on loopback (unless --url is given) with the per-IP submission limit off (every request comes from
127.0.0.1), fires N `POST /reports` with photos at once while reading the public feed, and prints errors,
p50/p99 latency and reports per second. A benchmark, not a test: run it by hand, the figure goes in notes.
"""

import argparse
import asyncio
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faults.probes import REPORT_FIELDS  # noqa: E402
from faults.topology import free_port  # noqa: E402
from lapor import contact_codes, reporters  # noqa: E402
from lapor.db import make_engine, session_scope  # noqa: E402
from lapor.migrate import upgrade  # noqa: E402

DEFAULT_DATABASE = "postgresql+psycopg://lapor:lapor@127.0.0.1:5432/lapor_bench"


def phone_like_photo(seed: int, size: tuple[int, int]) -> bytes:
    """A JPEG with enough texture to cost what a phone photo costs to decode and re-encode."""
    rng = random.Random(seed)  # noqa: S311 - texture, not a secret
    small = Image.new("RGB", (size[0] // 16, size[1] // 16))
    small.putdata(
        [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(small.width * small.height)]
    )
    out = io.BytesIO()
    small.resize(size, Image.Resampling.BICUBIC).save(out, format="JPEG", quality=90)
    return out.getvalue()


def prepare_reporters(database_url: str, count: int) -> list[str]:
    """`count` verified reporters and a bearer token for each, through the core's own registration."""
    now = datetime.now(UTC)
    tokens = []
    engine = make_engine(database_url)
    run = f"{time.time_ns() % 10**9:09d}"
    with session_scope(engine) as session:
        for index in range(count):
            new = contact_codes.create(
                session, name=f"Pelapor Bench {index}", email=f"bench-{run}-{index}@example.id", phone=None, now=now
            )
            assert new.email_code is not None
            registration = contact_codes.check(
                session, public_id=new.registration.public_id, code=new.email_code, now=now
            )
            tokens.append(reporters.issue_token(session, registration=registration, now=now).token)
    engine.dispose()
    return tokens


def start_api(database_url: str, port: int, data_dir: Path, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LAPOR_DATABASE_URL": database_url,
        "LAPOR_DATA_DIR": str(data_dir),
        "LAPOR_OUTBOX_DISPATCHER_ENABLED": "false",
        "LAPOR_RATE_LIMIT_SUBMISSION_IP": "off",  # every request of the benchmark comes from 127.0.0.1
        "LAPOR_FILE_SIGNING_KEY": "bench-signing-key",
        "LAPOR_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-proxy-headers", "--no-access-log", "--workers", str(workers)]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the API did not start within 60 s")


async def fire(url: str, tokens: list[str], photos: list[bytes], per_report: int) -> None:
    limits = httpx.Limits(max_connections=len(tokens) + 10, max_keepalive_connections=len(tokens) + 10)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        go = asyncio.Event()

        async def one(index: int, token: str) -> tuple[int | str, float]:
            files = [
                ("photos", (f"foto{i}.jpg", photos[(index + i) % len(photos)], "image/jpeg")) for i in range(per_report)
            ]
            await go.wait()
            began = time.perf_counter()
            try:
                response = await client.post(
                    "/reports", data=REPORT_FIELDS, files=files, headers={"Authorization": f"Bearer {token}"}
                )
                outcome: int | str = response.status_code
            except httpx.HTTPError as err:
                outcome = type(err).__name__
            return outcome, time.perf_counter() - began

        async def feed_reader(stop: asyncio.Event) -> list[float]:
            seen = []
            while not stop.is_set():
                began = time.perf_counter()
                await client.get("/public/reports")
                seen.append(time.perf_counter() - began)
                await asyncio.sleep(0.2)
            return seen

        tasks = [asyncio.create_task(one(i, token)) for i, token in enumerate(tokens)]
        stop = asyncio.Event()
        reader = asyncio.create_task(feed_reader(stop))
        await asyncio.sleep(0.5)  # every request is waiting on the same start signal
        began = time.perf_counter()
        go.set()
        results = await asyncio.gather(*tasks)
        wall = time.perf_counter() - began
        stop.set()
        feed = await reader
    outcomes = Counter(outcome for outcome, _ in results)
    latencies = sorted(seconds for _, seconds in results)
    created = outcomes.get(201, 0)
    errors = {str(k): v for k, v in outcomes.items() if k != 201}
    print(f"concurrent submissions : {len(tokens)} x {per_report} photo(s)")
    print(f"created (201)          : {created}")
    print(f"errors                 : {sum(errors.values())} {errors or ''}")
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(f"latency p50 / p99 / max: {statistics.median(latencies):.2f} s / {p99:.2f} s / {latencies[-1]:.2f} s")
    print(f"throughput             : {created / wall:.1f} reports/s ({wall:.1f} s wall)")
    if feed:
        print(f"public feed meanwhile  : {len(feed)} reads, slowest {max(feed):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("LAPOR_BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--url", help="a running API (it must use --database-url and have the per-IP limit off)")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--photos", type=int, default=2, help="photos per report")
    parser.add_argument("--photo-size", default="1600x1200")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes when the API is started here")
    args = parser.parse_args()
    width, height = (int(part) for part in args.photo_size.split("x"))
    upgrade(args.database_url)
    tokens = prepare_reporters(args.database_url, args.concurrency)
    photos = [phone_like_photo(seed, (width, height)) for seed in range(7)]
    print(f"photo size             : {width}x{height}, ~{sum(map(len, photos)) // len(photos) // 1024} KB each")
    process = None
    with tempfile.TemporaryDirectory(prefix="lapor-bench-") as data_dir:
        url = args.url
        if url is None:
            port = free_port()
            process = start_api(args.database_url, port, Path(data_dir), args.workers)
            url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(fire(url, tokens, photos, args.photos))
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
