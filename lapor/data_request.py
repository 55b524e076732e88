"""The operator's command for a reporter's data request received by letter or e-mail, when nobody at the front desk
can use /staf/data-pelapor: `python -m lapor.data_request export --email ... --by <login> --out data.zip`.

It writes the same ZIP as the API and the pages (lapor.personal_data), records the export on the reporter's audit
chain under the operator's login (`--by`, required: the chain names who handed the data out), and prints counts and
the file, never the reporter's name or contact. Correction and erasure (issue 23 item 2) belong here as commands too.
"""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from lapor import personal_data
from lapor.audit import AuditActor
from lapor.db import default_engine, session_scope
from lapor.logging import configure_logging
from lapor.settings import get_settings
from lapor.uploads import upload_dir


def main(argv: list[str] | None = None, *, db: Engine | None = None, now: datetime | None = None) -> int:
    settings = get_settings()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    parser = argparse.ArgumentParser(prog="python -m lapor.data_request", description="Permintaan data pelapor")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="everything held about one reporter, as a ZIP")
    contact = export.add_mutually_exclusive_group(required=True)
    contact.add_argument("--email", help="the reporter's e-mail address")
    contact.add_argument("--phone", help="the reporter's phone number")
    export.add_argument("--by", required=True, help="your staff login: the reporter's audit chain names it")
    export.add_argument("--out", required=True, type=Path, help="where to write the ZIP")
    args = parser.parse_args(argv)
    moment = now or datetime.now(UTC)
    try:
        with session_scope(db or default_engine()) as session:
            reporter = personal_data.find_reporter(session, email=args.email, phone=args.phone)
            if reporter is None:
                print("no single reporter has this contact", file=sys.stderr)
                return 2
            personal_data.record_export(
                session,
                reporter,
                via=personal_data.ExportVia.WRITTEN,
                actor_kind=AuditActor.STAF,
                actor=args.by,
                at=moment,
            )
            collected = personal_data.collect(
                session, reporter, upload_dir=upload_dir(Path(settings.data_dir)), now=moment
            )
            with args.out.open("wb") as out:
                personal_data.write_zip(collected, out)
            reporter_id = reporter.id
    except ValueError as invalid:  # an address or number that cannot be one
        print(str(invalid), file=sys.stderr)
        return 2
    photos = sum(1 for photo in collected.photos if photo.path is not None)
    print(
        f"reporter #{reporter_id}: {collected.report_count} reports, {photos} photos, "
        f"{len(collected.data['consent'])} consent records -> {args.out} (export recorded for {args.by})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
