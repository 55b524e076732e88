"""Erasure of a reporter's identity (UU No. 27/2022: the right to deletion; issue 23 item 2), on request or by the
retention schedule (lapor.retention).

The rule (docs/operations.md, "Penghapusan data pelapor"): the person goes, the complaint stays. A public complaint
and what the city did about it are archives the city must keep (UU No. 43/2009 on archives, Perpres 76/2013 on
public complaints): the report's facts (what, where, when, category, status, OPD, deadlines, timeline, ratings) and
the actions taken stay, so statistics, the monthly recap and the SLA figures do not move. What identifies the
reporter is removed everywhere the application holds it:

- the reporter's row keeps its id (their reports, consent ledger and audit chain keep a pseudonymous owner) but
  loses name, e-mail and phone;
- their sign-in tokens and every registration or correction code naming their contacts are deleted, and the
  rate-limit rows counted against their contacts;
- the texts they wrote on their reports (supplements, comments, confirmations) are replaced by `ERASED_TEXT`
  (a rating and an accept/refuse answer are facts and stay);
- their name, e-mail and phone are replaced by `REDACTED` wherever they were written into other free text of their
  reports (title, description, address, staff and OPD messages, timeline notes, outbox payloads) and in the local
  mail catcher's inbox under the data directory;
- the reports no longer show their name publicly (no name is left to show).

An open report is not closed: the city still owes the complaint its handling. It goes on anonymously; notices to the
reporter stop because no contact is left (lapor.notifications finds none), and a step that waits for the reporter's
answer ends by its deadline, as for any reporter who does not answer. The OPD is never told the identity anyway.

Neither the logs (lapor.logging: ids, never names or contacts) nor the engine (lapor.reports.process_variables:
ids, codes and flags) ever hold the identity, so there is nothing to erase there; tests prove both. The erasure is
recorded on the reporter's audit chain with counts and tracking ids, never the identity.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, delete, or_, select
from sqlalchemy.orm import Session

from lapor import ratelimit, reporter_audit
from lapor.audit import AuditActor
from lapor.models import (
    CLOSED_STATUSES,
    OutboxMessage,
    RegistrationCode,
    Report,
    Reporter,
    ReporterToken,
    ReportEvent,
    ReportFollower,
    ReportMessage,
    ReportStatus,
)
from lapor.refusals import Kind, Refused
from lapor.vocabulary import Actor

ERASED_TEXT = "[dihapus atas permintaan pelapor]"
REDACTED = "[dihapus]"
MAIL_CATCHER_INBOX = Path("mail") / "kotak-masuk.txt"  # api.mailcatcher's, local runs only


class ErasureVia(StrEnum):
    """Who asked for the erasure."""

    WEB = "web"  # the reporter, on Data saya
    API = "api"  # the reporter, DELETE /reporters/me
    WRITTEN = "tertulis"  # the operator's command, for a request by letter or e-mail
    RETENTION = "retensi"  # the retention schedule (lapor.retention)

    @property
    def label(self) -> str:
        return {
            "web": "Halaman warga",
            "api": "API",
            "tertulis": "Permintaan tertulis (operator)",
            "retensi": "Jadwal retensi",
        }[self.value]


class AlreadyErased(Refused):
    """The reporter's identity was erased before: nothing to erase, nor to correct (lapor.correction)."""

    kind = Kind.CONFLICT
    code = "already_erased"
    message = "Data pribadi pelapor ini sudah dihapus."


@dataclass(frozen=True, slots=True)
class Erasure:
    reporter_id: int
    reports: int
    open_reports: int
    texts_replaced: int  # the reporter's own messages
    texts_redacted: int  # other free text that named them
    codes: int
    tokens: int
    rate_limit_rows: int


_SEPARATORS = r"[\s\-.()]*"  # how people write a number: 0812-9999-0001, (0812) 9999 0001, +62 812 ...


def identity_patterns(name: str, email: str | None, phone: str | None) -> list[re.Pattern[str]]:
    """The forms the identity is written in: the name as words, the address, the number as +628…, 628… or 08…
    with or without spaces, dashes, dots and brackets between its digits."""
    patterns = [re.compile(re.escape(email), re.IGNORECASE)] if email else []
    if phone:  # stored as +628...
        digits = _SEPARATORS.join(phone[3:])
        patterns.append(re.compile(rf"(?<!\d)(?:\+?62|0){_SEPARATORS}{digits}(?!\d)"))
    if len(name.strip()) >= 3:  # a one- or two-letter "name" would match inside any word
        patterns.append(re.compile(rf"(?<!\w){re.escape(name.strip())}(?!\w)", re.IGNORECASE))
    return patterns


def redact(text: str, patterns: Iterable[re.Pattern[str]]) -> str:
    for pattern in patterns:
        text = pattern.sub(REDACTED, text)
    return text


def _redact_json(value: Any, patterns: list[re.Pattern[str]]) -> Any:
    if isinstance(value, str):
        return redact(value, patterns)
    if isinstance(value, list):
        return [_redact_json(item, patterns) for item in value]
    if isinstance(value, dict):
        return {key: _redact_json(item, patterns) for key, item in value.items()}
    return value


def _redact_columns(rows: Iterable[Any], columns: tuple[str, ...], patterns: list[re.Pattern[str]]) -> int:
    changed = 0
    for row in rows:
        for column in columns:
            before = getattr(row, column)
            after = _redact_json(before, patterns)
            if after != before:
                setattr(row, column, after)
                changed += 1
    return changed


def _mail_catcher(data_dir: Path | None, patterns: list[re.Pattern[str]]) -> int:
    inbox = data_dir / MAIL_CATCHER_INBOX if data_dir is not None else None
    if inbox is None or not inbox.is_file():
        return 0
    before = inbox.read_text(encoding="utf-8")
    after = redact(before, patterns)
    if after == before:
        return 0
    inbox.write_text(after, encoding="utf-8")
    return 1


def deleted(session: Session, statement: Delete) -> int:
    """Run a DELETE; how many rows it removed."""
    return int(cast("CursorResult[Any]", session.execute(statement)).rowcount or 0)


def erase(
    session: Session,
    reporter: Reporter,
    *,
    via: ErasureVia,
    actor_kind: AuditActor,
    actor: str,
    at: datetime,
    data_dir: Path | None = None,
) -> Erasure:
    """Erase the reporter's identity in the caller's transaction (see the module's docstring); AlreadyErased twice."""
    session.refresh(reporter, with_for_update=True)  # two erasures at once (a request, the schedule): one wins
    if reporter.erased_at is not None:
        raise AlreadyErased()
    patterns = identity_patterns(reporter.name, reporter.email, reporter.phone)
    contacts = [value for value in (reporter.email, reporter.phone) if value]
    mine = list(session.scalars(select(Report).where(Report.reporter_id == reporter.id).order_by(Report.id)))
    ids = [report.id for report in mine]
    messages = list(session.scalars(select(ReportMessage).where(ReportMessage.report_id.in_(ids))))
    replaced = 0
    for message in messages:
        if message.author == Actor.PELAPOR.value and message.text != ERASED_TEXT:
            message.text = ERASED_TEXT
            replaced += 1
    redacted = _redact_columns(mine, ("title", "description", "address"), patterns)
    redacted += _redact_columns(messages, ("text",), patterns)
    redacted += _redact_columns(
        session.scalars(select(ReportEvent).where(ReportEvent.report_id.in_(ids))), ("detail",), patterns
    )
    redacted += _redact_columns(
        session.scalars(select(OutboxMessage).where(OutboxMessage.report_id.in_(ids))), ("payload",), patterns
    )
    redacted += _mail_catcher(data_dir, patterns)
    for report in mine:
        report.show_reporter_name = False
    code_match = [RegistrationCode.reporter_id == reporter.id]
    code_match += [RegistrationCode.email == reporter.email] if reporter.email else []
    code_match += [RegistrationCode.phone == reporter.phone] if reporter.phone else []
    codes = deleted(session, delete(RegistrationCode).where(or_(*code_match)))
    tokens = deleted(session, delete(ReporterToken).where(ReporterToken.reporter_id == reporter.id))
    # Following someone else's report needs a contact, which is gone; a "Saya juga mengalami" stays counted (its row
    # names no one but the id).
    deleted(session, delete(ReportFollower).where(ReportFollower.reporter_id == reporter.id))
    limits = sum(ratelimit.forget(session, subject=contact) for contact in contacts)
    reporter.name, reporter.email, reporter.phone, reporter.erased_at = "", None, None, at
    open_reports = [r.tracking_id for r in mine if ReportStatus(r.status) not in CLOSED_STATUSES]
    erasure = Erasure(reporter.id, len(mine), len(open_reports), replaced, redacted, codes, tokens, limits)
    reporter_audit.record(
        session,
        reporter,
        action=reporter_audit.ReporterAction.ERASED,
        actor_kind=actor_kind,
        actor=actor,
        at=at,
        detail={
            "via": via.value,
            "reports": [r.tracking_id for r in mine],
            "open_reports": open_reports,
            "texts_replaced": replaced,
            "texts_redacted": redacted,
            "codes": codes,
            "tokens": tokens,
            "text": f"Data pribadi dihapus: {via.label}",
        },
    )
    session.flush()
    return erasure
