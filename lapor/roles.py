"""Who may do what in the engine: the SOP's roles as groups, their authorizations, and the service accounts.

The plan comes from master data (one `opd-<code>` group per OPD), so a changed OPD list adds or removes groups on
the next `python -m lapor.deploy`. Local logins (password = user id) exist only outside production.
"""

from dataclasses import replace

from lapor import masterdata
from lapor.process.identity import FilterVariable, Grant, Group, IdentityPlan, Resource, TaskFilter, User
from lapor.settings import Settings
from lapor.vocabulary import PROCESS_ID, RECAP_PROCESS_ID

WORKERS_ACCOUNT = "svc-workers"
API_ACCOUNT = "svc-api"

STAFF_GROUPS = {
    "admin-pengaduan": "Admin Pengaduan Daerah",
    "analis": "Analis Pengaduan Publik",
    "kepala-bidang": "Kepala Bidang Informasi dan Komunikasi Publik",
    "koordinator": "Koordinator Pengaduan Masyarakat",
}
SUPERVISORS = ("koordinator", "kepala-bidang")  # Cockpit: read, and retry what failed
DISPATCHERS = ("admin-pengaduan", "analis", "kepala-bidang")  # candidate groups of DispatchReportTask

# Tasks are never granted to those who work them: a user reads and works on a task through its candidate group (the
# engine grants that per task), so an OPD sees its own reports only. Supervisors read every task (below). Filters
# are granted one by one (task_filters below).
# No role holds CREATE on Task or on ProcessInstance: reports start through the API (svc-api), so creating
# a task or starting a process by hand in Tasklist is for administrators only (the engine answers 403 to the rest,
# and Tasklist hides both buttons from them: app/tasklist/scripts/lapor-actions.js).
_TASKLIST = (
    Grant(Resource.APPLICATION, "tasklist", ("ACCESS",)),
    # Tasklist shows the process name of each task.
    Grant(Resource.PROCESS_DEFINITION, PROCESS_ID, ("READ",)),
    Grant(Resource.PROCESS_DEFINITION, RECAP_PROCESS_ID, ("READ",)),
)
_COCKPIT_READ_ONLY = (
    Grant(Resource.APPLICATION, "cockpit", ("ACCESS",)),
    Grant(Resource.PROCESS_DEFINITION, "*", ("READ", "READ_INSTANCE", "READ_HISTORY")),
    Grant(Resource.PROCESS_INSTANCE, "*", ("READ",)),
    Grant(Resource.DECISION_DEFINITION, "*", ("READ", "READ_HISTORY")),
    Grant(Resource.DECISION_REQUIREMENTS_DEFINITION, "*", ("READ",)),
    Grant(Resource.DEPLOYMENT, "*", ("READ",)),
    # Who holds every open task, and its due date: Cockpit's "Tugas manusia" and an instance's user-task tab. READ
    # only: claiming, completing, reassigning or changing a task needs UPDATE or TASK_WORK/TASK_ASSIGN, which
    # supervisors get only for the tasks of their own candidate groups (the engine grants that per task).
    Grant(Resource.TASK, "*", ("READ",)),
    Grant(Resource.HISTORIC_TASK, "*", ("READ",)),
)
# Retrying an incident in Cockpit: RETRY_JOB covers failed jobs (timers) and, through the engine plugin
# engine/.../ExternalTaskRetryPermission.java, failed external tasks (every service task here), which the engine
# itself checks as UPDATE_INSTANCE. Supervisors hold no UPDATE_INSTANCE, UPDATE_INSTANCE_VARIABLE, SUSPEND_INSTANCE,
# MIGRATE_INSTANCE or DELETE_INSTANCE: changing variables, suspending, modifying, migrating, cancelling, a job's due
# date and fetching or completing an external task are refused (tests/e2e/test_role_logins.py).
_COCKPIT_RETRY = tuple(
    Grant(Resource.PROCESS_DEFINITION, process_id, ("READ", "READ_INSTANCE", "READ_HISTORY", "RETRY_JOB"))
    for process_id in (PROCESS_ID, RECAP_PROCESS_ID)
)
_WORKER_GRANTS = (
    # fetchAndLock needs to read the instance, complete/failure/bpmnError to update it.
    Grant(Resource.PROCESS_DEFINITION, "*", ("READ", "READ_INSTANCE", "UPDATE_INSTANCE")),
    Grant(Resource.PROCESS_INSTANCE, "*", ("READ", "UPDATE")),
    # The retention schedule erases identities (lapor.erasure): it reads a report's variables and their history
    # for the text to redact; the redaction itself is the API's (below).
    Grant(Resource.PROCESS_DEFINITION, PROCESS_ID, ("READ_HISTORY",)),
)
_API_GRANTS = (
    # Start a report's instance, find it by tracking id (history), correlate replies, cancel a duplicate; take an
    # erased reporter's identity out of a variable's history (DELETE_HISTORY: lapor.outbox, lapor.process.redaction).
    Grant(
        Resource.PROCESS_DEFINITION,
        PROCESS_ID,
        (
            "READ",
            "CREATE_INSTANCE",
            "READ_INSTANCE",
            "UPDATE_INSTANCE",
            "DELETE_INSTANCE",
            "READ_HISTORY",
            "DELETE_HISTORY",
        ),
    ),
    Grant(Resource.PROCESS_INSTANCE, "*", ("CREATE", "READ", "UPDATE", "DELETE")),
)


def identity_plan(settings: Settings) -> IdentityPlan:
    groups = [
        Group(group_id, name, _TASKLIST + (_COCKPIT_READ_ONLY + _COCKPIT_RETRY if group_id in SUPERVISORS else ()))
        for group_id, name in STAFF_GROUPS.items()
    ]
    groups += [
        Group(opd.candidate_group, f"Pejabat Penghubung {opd.short_name}", _TASKLIST) for opd in masterdata.opd_list()
    ]
    users = [
        User(WORKERS_ACCOUNT, "Layanan", "Worker", settings.worker_engine_password, grants=_WORKER_GRANTS),
        User(API_ACCOUNT, "Layanan", "API", settings.api_engine_password, grants=_API_GRANTS),
    ]
    if settings.environment != "production":
        users += local_logins()
    return IdentityPlan(groups=groups, users=users, filters=task_filters())


def staff_role(groups: list[str]) -> str | None:
    """The SOP role a staff member acts in, by their groups (a dispatcher's first), e.g. "Analis Pengaduan Publik"."""
    for group_id in (*DISPATCHERS, *STAFF_GROUPS):
        if group_id in groups:
            return STAFF_GROUPS[group_id]
    return None


def local_logins() -> list[User]:
    """One login per SOP role for the local run: the user id is the group id, and also the password."""
    logins = [User(group_id, name, "(lokal)", group_id, groups=(group_id,)) for group_id, name in STAFF_GROUPS.items()]
    logins += [
        User(
            opd.candidate_group,
            "Pejabat Penghubung",
            opd.short_name,
            opd.candidate_group,
            groups=(opd.candidate_group,),
        )
        for opd in masterdata.opd_list()
    ]
    return logins


def opd_groups() -> tuple[str, ...]:
    return tuple(opd.candidate_group for opd in masterdata.opd_list())


# What each task card shows under the task's name, in every filter (the due date is the task's own). Process
# variables every report has (bpmn/README.md); a task without one (the monthly recap has only its period) leaves it out.
CARD_VARIABLES = (
    FilterVariable("trackingId", "Nomor laporan"),
    FilterVariable("categoryName", "Kategori"),
    FilterVariable("kelurahanName", "Kelurahan"),
    FilterVariable("recapPeriod", "Periode rekap"),
)


def task_filters() -> list[TaskFilter]:
    """Tasklist's filters per role; each shows only tasks its reader may see anyway (candidate groups)."""
    by_due_date = [{"sortBy": "dueDate", "sortOrder": "asc"}, {"sortBy": "created", "sortOrder": "asc"}]
    mine = {"candidateGroupsExpression": "${currentUserGroups()}", "includeAssignedTasks": True}
    filters = [
        TaskFilter(
            "Verifikasi",
            {"taskDefinitionKey": "VerifyReportTask", "sorting": by_due_date},
            ("admin-pengaduan",),
            "Laporan baru yang menunggu verifikasi Admin Pengaduan",
            priority=10,
        ),
        TaskFilter(
            "Disposisi",
            {"taskDefinitionKey": "DispatchReportTask", "sorting": by_due_date},
            DISPATCHERS,
            "Laporan terverifikasi yang menunggu disposisi ke OPD",
            priority=20,
        ),
        TaskFilter(
            "Tugas OPD saya",
            {**mine, "sorting": by_due_date},
            opd_groups(),
            "Tanggapan dan penyelesaian laporan yang didisposisikan ke OPD Anda",
            priority=10,
        ),
        TaskFilter(
            "Tugas kelompok saya",
            {**mine, "sorting": by_due_date},
            tuple(STAFF_GROUPS),
            "Semua tugas kelompok Anda (dokumentasi penyelesaian, rekap bulanan)",
            priority=30,
        ),
        TaskFilter(
            "Lewat tenggat",
            {**mine, "dueBeforeExpression": "${now()}", "sorting": by_due_date},
            tuple(STAFF_GROUPS) + opd_groups(),
            "Tugas yang melewati batas waktunya",
            priority=40,
        ),
    ]
    return [replace(f, variables=CARD_VARIABLES) for f in filters]
