"""lapor-deadline: the SOP's due dates from the engine's clock, kept on the report with where they started (so
`python -m lapor.recompute` can move them when the calendar changes), with freshly signed links."""

from datetime import timedelta
from typing import Any

from lapor import deadlines, duplicates, masterdata, recompute, reports, signed_links
from lapor.notifications.templates import format_due_date
from lapor.process.tasks import ExternalTask
from lapor.vocabulary import DUPLICATE_CANDIDATES_VARIABLE, DUPLICATE_REFUSAL_VARIABLE, Deadline
from workers import inputs
from workers.deps import Deps

# Signed links live as long as the task that shows them, plus a day of grace; each deadline renews them.
LINK_GRACE = timedelta(days=1)
PHOTO_COUNT_VARIABLE = "photoCount"
OPD_NAME_VARIABLES = {"proposedOpdCode": "proposedOpdName", "opdCode": "opdName"}


def compute_deadline(d: Deps, task: ExternalTask) -> dict[str, Any]:
    """Due date (and reminder) of the SLA the task's properties set (lapor.deadlines.SlaRule) as Date variables,
    the due date in words for the forms (`<prefix>DueText`), and a freshly signed `reportSummaryUrl`."""
    rule = inputs.sla_rule(task)
    deadline = rule.deadline
    sla = rule.start(inputs.engine_now(task))
    variables: dict[str, Any] = dict(deadlines.compute_sla(sla, d.calendar))
    due = variables[deadline.due_variable]
    variables[deadline.due_text_variable] = format_due_date(due)
    expires = due + LINK_GRACE
    with d.session() as session:
        report = reports.get_by_tracking_id(session, inputs.tracking_id(task))
        recompute.record_start(session, report=report, sla=sla)
        if deadline.column is not None:  # tracking and the recap show the current deadline
            setattr(report, deadline.column, due)
        variables["reportSummaryUrl"] = signed_links.report_summary_url(
            report, expires, d.settings.public_base_url, settings=d.settings
        )
        if deadline is Deadline.VERIFICATION:  # each round: a supplement may have brought photos the form counts
            variables[PHOTO_COUNT_VARIABLE] = reports.photo_count(session, report)
            # The form suggests what this report may duplicate, and a new round starts without an old refusal.
            variables[DUPLICATE_CANDIDATES_VARIABLE] = duplicates.candidates_text(
                session, report, radius_m=d.settings.nearby_radius_m
            )
            variables[DUPLICATE_REFUSAL_VARIABLE] = ""
    # The forms show the OPDs by name: the DMN's proposal before the disposition, the chosen one after it.
    for code_variable, name_variable in OPD_NAME_VARIABLES.items():
        if (code := inputs.optional_text(task, code_variable)) is not None:
            variables[name_variable] = masterdata.name_of(masterdata.get_opd, code) or code
    return variables
