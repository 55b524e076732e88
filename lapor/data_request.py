"""The operator's command for a reporter's data request received by letter or e-mail, when nobody at the front desk
can use /staf/data-pelapor: `python -m lapor.data_request export --email ... --by <login> --out data.zip`.

It writes the same ZIP as the API and the pages (lapor.personal_data), records the export on the reporter's audit
chain under the operator's login (`--by`, required: the chain names who handed the data out), and prints counts and
the file, never the reporter's name or contact.

Correction and erasure (issue 23 item 2), for a request received in writing:
`erase --email ... --by <login>` erases the reporter's identity (lapor.erasure) and prints the counts; it reads the
engine with the login of LAPOR_ENGINE_USER (svc-api in a deployment) and, when the engine does not answer, erases
nothing and exits with 3;
`correct --email OLD --new-email NEW --by <login>` sends a code to the new contact only and prints the correction's
id; the reporter reads the code to the operator (or answers the letter with it), and
`correct --email OLD --correction ID --code CODE --by <login>` confirms it (lapor.correction: the old contact is
told). Both are recorded on the reporter's audit chain under the operator's login.
"""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from lapor import contact_codes, correction, erasure, personal_data
from lapor.audit import AuditActor
from lapor.db import default_engine, session_scope
from lapor.logging import configure_logging
from lapor.notifications.service import Notifier
from lapor.process import EngineClient
from lapor.refusals import Refused
from lapor.settings import Settings, get_settings
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
    erase = commands.add_parser("erase", help="erase one reporter's identity (their reports stay, anonymous)")
    correct = commands.add_parser("correct", help="replace one reporter's e-mail or phone, proved by a code")
    for command in (erase, correct):
        found_by = command.add_mutually_exclusive_group(required=True)
        found_by.add_argument("--email", help="the reporter's e-mail address")
        found_by.add_argument("--phone", help="the reporter's phone number")
        command.add_argument("--by", required=True, help="your staff login: the reporter's audit chain names it")
    new = correct.add_mutually_exclusive_group()
    new.add_argument("--new-email", help="the new e-mail address: a code is sent there")
    new.add_argument("--new-phone", help="the new phone number: a code is sent there by SMS")
    correct.add_argument("--correction", help="the correction's id, printed when the code was sent")
    correct.add_argument("--code", help="the code the reporter received at the new contact")
    args = parser.parse_args(argv)
    moment = now or datetime.now(UTC)
    if args.command == "erase":
        return _erase(args, db or default_engine(), settings, moment)
    if args.command == "correct":
        return _correct(args, db or default_engine(), settings, moment)
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


ENGINE_UNREADABLE = 3  # the exit code of an erasure refused because the engine did not answer


def _erase(args: argparse.Namespace, db: Engine, settings: Settings, moment: datetime) -> int:
    try:
        with (
            EngineClient(settings.engine_url, user=settings.engine_user, password=settings.engine_password) as engine,
            session_scope(db) as session,
        ):
            reporter = personal_data.find_reporter(session, email=args.email, phone=args.phone)
            if reporter is None:
                print("no single reporter has this contact", file=sys.stderr)
                return 2
            done = erasure.erase(
                session,
                reporter,
                via=erasure.ErasureVia.WRITTEN,
                actor_kind=AuditActor.STAF,
                actor=args.by,
                at=moment,
                engine=engine,
                data_dir=Path(settings.data_dir),
            )
    except erasure.EngineUnreadable as err:
        print(f"nothing erased: the engine did not answer ({err.reason}); try again later", file=sys.stderr)
        return ENGINE_UNREADABLE
    except (ValueError, Refused) as invalid:
        print(str(invalid), file=sys.stderr)
        return 2
    print(
        f"reporter #{done.reporter_id} erased: {done.reports} reports kept without identity "
        f"({done.open_reports} still open), {done.texts_replaced} own texts replaced, {done.texts_redacted} other "
        f"texts redacted, {done.engine_variables} engine variables queued for redaction, {done.tokens} tokens and "
        f"{done.codes} codes deleted (erasure recorded for {args.by})"
    )
    return 0


def _correct(args: argparse.Namespace, db: Engine, settings: Settings, moment: datetime) -> int:
    confirming = args.correction is not None or args.code is not None
    if confirming == bool(args.new_email or args.new_phone) or (confirming and not (args.correction and args.code)):
        print("give --new-email or --new-phone to send a code, or --correction and --code to confirm", file=sys.stderr)
        return 2
    notifier = Notifier.from_settings(settings)
    try:
        with session_scope(db) as session:
            reporter = personal_data.find_reporter(session, email=args.email, phone=args.phone)
            if reporter is None:
                print("no single reporter has this contact", file=sys.stderr)
                return 2
            if not confirming:
                kind = correction.ContactKind.EMAIL if args.new_email else correction.ContactKind.PHONE
                value = args.new_email or args.new_phone
                started = correction.start(session, notifier, reporter, kind=kind, value=value, now=moment)
                print(
                    f"reporter #{reporter.id}: code sent to the new {kind.value}; correction {started.correction_id} "
                    f"(valid until {started.expires_at:%Y-%m-%d %H:%M} UTC)"
                )
                return 0
            try:
                done = correction.confirm(
                    session,
                    notifier,
                    reporter,
                    correction_id=args.correction,
                    code=args.code,
                    actor_kind=AuditActor.STAF,
                    actor=args.by,
                    now=moment,
                )
            except contact_codes.CodeInvalid as wrong:  # the wrong try counts: committed by the check
                print(f"wrong code, {wrong.attempts_left} attempts left", file=sys.stderr)
                return 1
            print(
                f"reporter #{reporter.id}: {done.contact.value} replaced, old contact told ({done.old_told} "
                f"messages; correction recorded for {args.by})"
            )
    except (ValueError, Refused) as refused:
        print(f"{type(refused).__name__}: {refused}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
