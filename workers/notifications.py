"""lapor-notify and lapor-reminder: messages to the reporter, the OPD, the admin and the koordinator."""

from datetime import datetime

from lapor import reports, roles, signed_links, support
from lapor.models import EventKind
from lapor.notifications.service import Recipient
from lapor.process.tasks import ExternalTask, ModelError
from lapor.vocabulary import FOLLOWED_NOTICES, FOLLOWER, RECIPIENTS, Actor, Deadline, Notice
from workers import inputs
from workers.deps import Deps

DISPATCHED_BY_NAME_VARIABLE = "dispatchedByName"
DISPATCHED_BY_GROUPS_VARIABLE = "dispatchedByGroups"
DEFAULT_DISPATCHER = "Admin Pengaduan Daerah"
REMINDER_KINDS = ("reminder", "escalation")
# Steps Admin Pengaduan's side holds (verification, disposition, documentation): reminders go to the admin only.
ADMIN_DEADLINES = (Deadline.VERIFICATION, Deadline.DISPOSITION, Deadline.DOCUMENTATION)


def notify(d: Deps, task: ExternalTask) -> None:
    """The `template` property to the `recipient` property, once per task and recipient."""
    template = inputs.enum_prop(task, "template", Notice)
    recipient = inputs.enum_prop(task, "recipient", Actor)
    if recipient not in RECIPIENTS:
        raise ModelError(f"{task.activity_id}: recipient {recipient.value!r}; known: {', '.join(RECIPIENTS)}")
    deadline = template.deadline
    note_variable = template.note
    _send(
        d,
        task,
        template=template,
        recipient=recipient,
        due_at=inputs.due_at(task, deadline) if deadline else None,
        note=inputs.optional_text(task, note_variable) if note_variable else None,
        dispatched_by=dispatcher(task) if template is Notice.LAPORAN_DIDISPOSISI else "",
    )
    if recipient is Actor.PELAPOR and template in FOLLOWED_NOTICES:
        tell_followers(d, task)


def tell_followers(d: Deps, task: ExternalTask) -> int:
    """The report's followers hear of its progress in their own words: status and link, never the reporter's name,
    contact or note, and never each other's (one message per follower, once per task: the ledger's key)."""
    now = inputs.engine_now(task)
    with d.session() as session:
        report = reports.get_by_tracking_id(session, inputs.tracking_id(task))
        people = [
            (f.id, Recipient(kind=FOLLOWER, email=f.email, phone=f.phone)) for f in support.followers(session, report)
        ]
    key = signed_links.signing_key(d.settings)
    base_url = d.settings.public_base_url
    sent = 0
    for follower_id, recipient in people:
        unfollow = support.unfollow_url(report.tracking_id, follower_id, base_url, key=key, now=now)
        sent += d.notifier.send_once(
            session_factory=d.session_factory,
            idempotency_key=f"{task.id}:{FOLLOWER}:{follower_id}",
            report=report,
            template=Notice.LAPORAN_DIIKUTI,
            recipient_kind=FOLLOWER,
            context={"title": report.title, "unfollow_url": unfollow},
            now=now,
            recipients=[recipient],
        )
    return sent


def dispatcher(task: ExternalTask) -> str:
    """Who made the disposition, as the OPD reads it: "Nama (Kepala Bidang ...)". The engine records the name and
    groups of whoever completed the task (engine/.../StaffDirectory.java); the workers read no staff directory."""
    name = inputs.optional_text(task, DISPATCHED_BY_NAME_VARIABLE)
    if name is None:
        return DEFAULT_DISPATCHER
    role = roles.staff_role((inputs.optional_text(task, DISPATCHED_BY_GROUPS_VARIABLE) or "").split(","))
    return f"{name} ({role})" if role and role not in name else name


def remind(d: Deps, task: ExternalTask) -> None:
    """A `reminder` before or an `escalation` after the `deadline` property's due date; the report carries on."""
    deadline = inputs.deadline_prop(task, "deadline")
    if deadline.reminder_variable is None:
        raise ModelError(f"{task.activity_id}: deadline {deadline.code!r} has no reminders in the SOP")
    kind = task.prop("kind")
    if kind not in REMINDER_KINDS:
        raise ModelError(f"{task.activity_id}: property kind={kind!r}; known: {', '.join(REMINDER_KINDS)}")
    if kind == "escalation":
        template, event_kind = Notice.ESKALASI, EventKind.ESCALATION
        recipients = [Actor.KOORDINATOR, Actor.ADMIN_PENGADUAN]
    else:
        template, event_kind = Notice.PENGINGAT, EventKind.REMINDER
        recipients = [Actor.OPD, Actor.ADMIN_PENGADUAN]
        if deadline in ADMIN_DEADLINES:  # Admin Pengaduan's own tasks: no OPD to remind
            recipients = [Actor.ADMIN_PENGADUAN]
    due = inputs.due_at(task, deadline)
    for index, recipient in enumerate(recipients):
        _send(
            d,
            task,
            template=template,
            recipient=recipient,
            due_at=due,
            note=f"Batas waktu {deadline.label}",
            deadline=deadline,
            timeline=event_kind if index == 0 else None,  # one timeline entry for the reminder, not one per reader
        )


def _send(
    d: Deps,
    task: ExternalTask,
    *,
    template: str,
    recipient: Actor,
    due_at: datetime | None,
    note: str | None,
    deadline: Deadline | None = None,
    timeline: EventKind | None = None,
    dispatched_by: str = "",
) -> int:
    now = inputs.engine_now(task)
    with d.session() as session:
        report = reports.get_by_tracking_id(session, inputs.tracking_id(task))
        _ = report.reporter  # loaded now: recipients are resolved after this session closes
        # The report's own values (tracking id, status, OPD) and its link come from the notifier (report_context,
        # report_link); these are what only the task knows.
        context = {
            "due_date": due_at.isoformat() if due_at else "",  # the templates format it long for e-mail, short for SMS
            "deadline": deadline.code if deadline else "",
            "note": note or "",
            "dispatched_by": dispatched_by or DEFAULT_DISPATCHER,
        }
        if timeline is not None:  # reminders and escalations belong in the timeline too
            reports.record_event(
                session, report=report, kind=timeline, actor=Actor.SISTEM, at=now, task_id=task.id, detail=note
            )
    return d.notifier.send_once(
        session_factory=d.session_factory,
        idempotency_key=f"{task.id}:{recipient.value}",
        report=report,
        template=template,
        recipient_kind=recipient.value,
        context=context,
        now=now,
    )
