"""Photo rows against the photo files after a restore: the files are copied at another moment than the databases
are dumped, so a row may name a file the copy lacks, and a file may have no row. Listed for a person, never
deleted nor changed: a stray file may be the only copy of a photo whose report came back as a stand-in."""

import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from lapor.db import session_scope
from lapor.models import Photo, Report
from lapor.restore.findings import Finding, Kind, Outcome
from lapor.uploads import path_of, upload_dir
from lapor.workdays import PONTIANAK_TZ

_STORED = re.compile(r"^[0-9a-f]{64}\.[a-z]+$")  # lapor.uploads.path_of's names; thumbs/ and temporary files aside
MISSING = (
    "the files' copy is older than the database's: copy the file from a newer copy (same name), or ask for the "
    "photo again; until then the report shows without it"
)
STRAY = (
    "no photo row names it: a photo of a report received after the application's dump (compare its time with the "
    "stand-in reports'), or one erased or past retention after the files' copy (then delete it by hand)"
)


def check(db: Engine, data_dir: Path, only: set[str] | None, outcome: Outcome) -> None:
    """Photo rows whose file is missing, per report; and (for a whole run) files no row names."""
    uploads = upload_dir(data_dir)
    with session_scope(db) as session:
        query = select(Photo.id, Photo.sha256, Photo.content_type, Report.tracking_id).join(
            Report, Report.id == Photo.report_id
        )
        if only is not None:
            query = query.where(Report.tracking_id.in_(sorted(only)))
        rows = session.execute(query.order_by(Report.tracking_id, Photo.id)).all()
        named = set(session.scalars(select(Photo.sha256).distinct())) if only is None else set()
    missing: dict[str, list[tuple[int, Path]]] = defaultdict(list)
    for photo_id, sha256, content_type, tracking_id in rows:
        path = path_of(uploads, sha256, content_type)
        if not path.is_file():
            missing[tracking_id].append((photo_id, path))
    for tracking_id, photos in missing.items():
        ids = ", ".join(f"#{photo_id} {path.relative_to(data_dir)}" for photo_id, path in photos)
        outcome.findings.append(Finding(tracking_id, Kind.PHOTO_MISSING, f"photo {ids}", MISSING))
    if only is not None or not uploads.is_dir():
        return
    for path in sorted(uploads.glob("??/*")):
        if path.is_file() and _STORED.match(path.name) and path.name[:64] not in named:
            written = path.stat().st_mtime
            moment = datetime.fromtimestamp(written, PONTIANAK_TZ).strftime("%Y-%m-%d %H:%M WIB")
            action = f"{path.relative_to(data_dir)} (written {moment})"
            outcome.findings.append(Finding("-", Kind.STRAY_FILE, action, STRAY))
