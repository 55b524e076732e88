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
- their name (whole, and each part of it of 3 letters or more as a word), e-mail and phone are replaced by
  `REDACTED` wherever they were written into other free text of their reports (title, description, address, staff
  and OPD messages, timeline notes, outbox payloads), in the local mail catcher's inbox under the data directory,
  and in the engine's variables of their reports (below);
- the reports no longer show their name publicly (no name is left to show).

An open report is not closed: the city still owes the complaint its handling. It goes on anonymously; notices to the
reporter stop because no contact is left (lapor.notifications finds none), and a step that waits for the reporter's
answer ends by its deadline, as for any reporter who does not answer. The OPD is never told the identity anyway.

The logs never hold the identity (lapor.logging: ids, never names or contacts), nor does what the application gives
the engine (lapor.reports.process_variables: ids, codes and flags). What staff type in Tasklist forms may (a
verification note "Sudah ditelepon Bu Siti"), in the engine's runtime variables and history. So, before anything is
written, `engine_redactions` reads every instance of the reporter's reports (running or ended) with the caller's
service login and plans, per string variable that holds or held the identity, its redacted value
(lapor.process.redaction); the erasure then queues each as an outbox row (ids, name, redacted value, a digest of
the value replaced; never the identity), which the API's dispatcher applies with retries: the variable's history
is deleted, and the redacted value set again where the instance still holds it. When the engine cannot be read the
erasure raises EngineUnreadable and writes nothing (the API answers 503, the command exits 3, the retention schedule
tries again at its next run). Why not let the dispatcher find the variables itself: it would need the identity in
the outbox row, which outlives the erasure in the database and its backups.

The audit trail holds a timeline note's digest, not its words (lapor.reports.record_event), and reads the note from
the timeline, so the redaction above reaches what the trail shows. The erasure is recorded on the reporter's audit
chain with counts and tracking ids, never the identity.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, Delete, delete, or_, select
from sqlalchemy.orm import Session

from lapor import outbox, ratelimit, reporter_audit
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
from lapor.process import EngineClient, EngineError, VariableRedaction
from lapor.refusals import Kind, Refused
from lapor.vocabulary import PROCESS_ID, Actor

_log = structlog.stdlib.get_logger(__name__)

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


class EngineUnreadable(Refused):
    """The engine did not say what its variables hold: nothing was erased (the caller's transaction rolls back)."""

    kind = Kind.UNAVAILABLE
    code = "erasure_engine_unavailable"
    message = (
        "Data pribadi Anda belum dapat dihapus karena mesin proses laporan sedang tidak menjawab. Tidak ada data yang "
        "dihapus; silakan coba lagi beberapa saat lagi."
    )

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason  # for the log and the operator, never in the answer


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
    engine_variables: int = 0  # variables of the reports' instances queued for redaction in the engine


_SEPARATORS = r"[\s\-.()]*"  # how people write a number: 0812-9999-0001, (0812) 9999 0001, +62 812 ...


_MIN_NAME_PART = 3  # a one- or two-letter name part ("Al", "Bu") would redact too much ordinary text


def identity_patterns(name: str, email: str | None, phone: str | None) -> list[re.Pattern[str]]:
    """The forms the identity is written in: the whole name, then each part of it of 3 letters or more, as whole
    words ("Pak Budi", "Bu Santoso"; never inside "Budiman"), any case; the address; the number as +628…, 628… or
    08… with or without spaces, dashes, dots and brackets between its digits."""
    patterns = [re.compile(re.escape(email), re.IGNORECASE)] if email else []
    if phone:  # stored as +628...
        digits = _SEPARATORS.join(phone[3:])
        patterns.append(re.compile(rf"(?<!\d)(?:\+?62|0){_SEPARATORS}{digits}(?!\d)"))
    whole = " ".join(name.split())
    parts = [part for part in dict.fromkeys(whole.split()) if len(part) >= _MIN_NAME_PART]
    # The whole name first, so "Budi Santoso" becomes one mark rather than two.
    wholes = [whole] if len(whole) >= _MIN_NAME_PART and whole not in parts else []
    for words in wholes + parts:
        spaced = r"\s+".join(re.escape(word) for word in words.split())
        patterns.append(re.compile(rf"(?<!\w){spaced}(?!\w)", re.IGNORECASE))
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


def engine_redactions(
    engine: EngineClient | None, reports: Iterable[Report], patterns: list[re.Pattern[str]]
) -> list[tuple[Report, VariableRedaction]]:
    """Every variable of every instance of the reports (running or ended, a restarted report's earlier ones too)
    that holds the identity now or held it once, with its redacted value; EngineUnreadable when the engine does not
    answer. Reports that never reached the engine need no engine."""
    started = [report for report in reports if report.process_instance_id]
    if not started:
        return []
    if engine is None:
        raise EngineUnreadable("no engine login to read the reports' variables with")
    found: list[tuple[Report, VariableRedaction]] = []
    try:
        for report in started:
            ids = {i.id for i in engine.historic_instances(PROCESS_ID, business_key=report.tracking_id)}
            for instance_id in sorted(ids | {str(report.process_instance_id)}):
                planned = engine.variable_redactions(instance_id, redact=lambda text: redact(text, patterns))
                found += [(report, variable) for variable in planned.variables]
                if planned.form_fields:  # written before engine/.../NoFormFieldHistory.java: history's TTL ends them
                    _log.warning("erasure.form_fields_left", tracking_id=report.tracking_id, count=planned.form_fields)
    except EngineError as err:
        raise EngineUnreadable(str(err)) from err
    return found


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
    engine: EngineClient | None,
    data_dir: Path | None = None,
) -> Erasure:
    """Erase the reporter's identity in the caller's transaction (see the module's docstring); AlreadyErased twice,
    EngineUnreadable (before anything is written) when a report reached the engine and `engine` cannot be read."""
    session.refresh(reporter, with_for_update=True)  # two erasures at once (a request, the schedule): one wins
    if reporter.erased_at is not None:
        raise AlreadyErased()
    patterns = identity_patterns(reporter.name, reporter.email, reporter.phone)
    contacts = [value for value in (reporter.email, reporter.phone) if value]
    mine = list(session.scalars(select(Report).where(Report.reporter_id == reporter.id).order_by(Report.id)))
    ids = [report.id for report in mine]
    in_engine = engine_redactions(engine, mine, patterns)  # first: a refusal leaves nothing half-written
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
    for report, variable in in_engine:  # after the payloads above were redacted: these hold no identity
        outbox.enqueue_redaction(
            session, report=report, redaction=variable, erasure_key=f"pelapor-{reporter.id}", now=at
        )
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
    erasure = Erasure(
        reporter.id, len(mine), len(open_reports), replaced, redacted, codes, tokens, limits, len(in_engine)
    )
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
            "engine_variables": len(in_engine),
            "codes": codes,
            "tokens": tokens,
            "text": f"Data pribadi dihapus: {via.label}",
        },
    )
    session.flush()
    return erasure
