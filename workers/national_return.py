"""lapor-return-national: reports outside the city's authority go back to Admin Pusat (national LAPOR!)."""

from typing import Any

from lapor import reports
from lapor.models import EventKind
from lapor.national import NationalRefusedError
from lapor.process.tasks import BpmnError, ExternalTask
from lapor.vocabulary import Actor, ErrorCode, FormField
from workers import inputs
from workers.deps import Deps

DEFAULT_REASON = "Bukan kewenangan Pemerintah Kota Pontianak"


def return_to_national(d: Deps, task: ExternalTask) -> dict[str, Any]:
    """Hand the report back with the admin's `verificationNote`; a refusal sends it back to verification.

    Returns `nationalReference`, the national system's reference of the return ("" when it gives none).
    """
    tracking_id = inputs.tracking_id(task)
    reason = inputs.optional_text(task, FormField.VERIFICATION_NOTE) or DEFAULT_REASON
    try:
        # The task id as idempotency key: a retried task is the same return to the national system.
        receipt = d.national.return_report(tracking_id=tracking_id, reason=reason, idempotency_key=task.id)
    except NationalRefusedError as refused:
        raise BpmnError(
            ErrorCode.NATIONAL_RETURN_REFUSED, f"Admin Pusat menolak pengembalian laporan: {refused.detail}"
        ) from refused
    with d.session() as session:
        report = reports.get_by_tracking_id(session, tracking_id)
        reports.record_event(
            session,
            report=report,
            kind=EventKind.NATIONAL_RETURN,
            actor=Actor.ADMIN_PENGADUAN,
            at=inputs.engine_now(task),
            task_id=task.id,
            detail=f"Dikembalikan ke Admin Pusat. Ref: {receipt.reference or '-'}. {reason}",
        )
    return {"nationalReference": receipt.reference or ""}
