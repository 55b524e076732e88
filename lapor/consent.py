"""The reporter's consent choices, each recorded with when and how it was made (table `consent_records`).

At submission a reporter chooses, per report, whether their name is shown on the public report (`show_name`), and
two privacy options that limit who sees what (`anonymous`: hidden from the public and the OPD; `confidential`: the
report is not public). The report's columns hold the choice in force; this ledger holds every choice with its time,
so the city can show what the reporter agreed to and when. A later change (a withdrawal) is a new row, never an
edit. There is no separate "contact me for follow-up" choice in intake: the contact details a reporter gives are
used for the notices of their own reports, which is the service they asked for (docs/operations.md).
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from lapor.models import ConsentRecord, Report


class ConsentChoice(StrEnum):
    SHOW_NAME = "show_name"
    ANONYMOUS = "anonymous"
    CONFIDENTIAL = "confidential"

    @property
    def label(self) -> str:
        return {
            "show_name": "Nama ditampilkan pada laporan publik",
            "anonymous": "Anonim (identitas disembunyikan dari publik dan OPD)",
            "confidential": "Rahasia (laporan tidak ditampilkan kepada publik)",
        }[self.value]


INTAKE = "intake"


def record_report_choices(session: Session, report: Report, *, recorded_by: str | None, at: datetime) -> None:
    """The choices a report was submitted with, in the intake's transaction; nothing for a report without reporter."""
    if report.reporter_id is None:
        return
    in_force = {
        ConsentChoice.SHOW_NAME: report.show_reporter_name,
        ConsentChoice.ANONYMOUS: report.anonymous,
        ConsentChoice.CONFIDENTIAL: report.confidential,
    }
    session.add_all(
        ConsentRecord(
            reporter_id=report.reporter_id,
            report_id=report.id,
            choice=choice.value,
            granted=bool(granted),
            channel=report.channel,
            recorded_by=recorded_by,
            origin=INTAKE,
            recorded_at=at,
        )
        for choice, granted in in_force.items()
    )


def choices_of(session: Session, reporter_id: int) -> list[ConsentRecord]:
    """Every choice the reporter made, oldest first."""
    return list(
        session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.reporter_id == reporter_id)
            .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
        )
    )


def label_of(choice: str) -> str:
    try:
        return ConsentChoice(choice).label
    except ValueError:
        return choice
