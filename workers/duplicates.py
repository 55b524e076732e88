"""lapor-merge-duplicate: Admin Pengaduan marked the report as a duplicate of another; merge it and tell both
reporters, or send it back to verification with the reason (lapor.duplicates)."""

from typing import Any

import structlog

from lapor import duplicates, reports
from lapor.links import tracking_page_url
from lapor.models import Report
from lapor.process.tasks import BpmnError, ExternalTask
from lapor.vocabulary import DUPLICATE_REFUSAL_VARIABLE, Actor, ErrorCode, FormField, Notice
from workers import inputs
from workers.deps import Deps

log = structlog.stdlib.get_logger(__name__)


def merge_duplicate(d: Deps, task: ExternalTask) -> dict[str, Any]:
    """The report becomes DIGABUNGKAN and its reporter follows the original; a wrong `originalTrackingId` is the
    BPMN error DUPLICATE_REFUSED with `duplicateRefusal`, which the verification form shows."""
    now = inputs.engine_now(task)
    with d.session() as session:
        duplicate = reports.get_by_tracking_id(session, inputs.tracking_id(task))
        try:
            original = duplicates.original_for(
                session, duplicate, inputs.optional_text(task, FormField.ORIGINAL_TRACKING_ID)
            )
        except duplicates.MergeRefused as refused:
            raise BpmnError(
                ErrorCode.DUPLICATE_REFUSED.value, refused.message, {DUPLICATE_REFUSAL_VARIABLE: refused.message}
            ) from None
        duplicates.merge(session, duplicate=duplicate, original=original, at=now, task_id=task.id)
        session.flush()
        for report in (duplicate, original):
            session.refresh(report)
            session.expunge(report)
    log.info("duplicate.merged", tracking_id=duplicate.tracking_id, original=original.tracking_id)
    _tell(d, task, duplicate, Notice.LAPORAN_DIGABUNGKAN, original)
    _tell(d, task, original, Notice.DUPLIKAT_DIGABUNGKAN, None)
    return {FormField.ORIGINAL_TRACKING_ID.value: original.tracking_id, DUPLICATE_REFUSAL_VARIABLE: ""}


def _tell(d: Deps, task: ExternalTask, report: Report, template: Notice, original: Report | None) -> None:
    """Each reporter hears of the other report by tracking id only, once per task."""
    context: dict[str, str] = {}
    if original is not None:
        context = {
            "original_tracking_id": original.tracking_id,
            "original_url": tracking_page_url(d.settings.public_base_url, original.tracking_id),
        }
    d.notifier.send_once(
        session_factory=d.session_factory,
        idempotency_key=f"{task.id}:{template.value}",
        report=report,
        template=template,
        recipient_kind=Actor.PELAPOR.value,
        context=context,
        now=inputs.engine_now(task),
    )
