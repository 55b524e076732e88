"""Who may do what in the engine: the SOP's roles as groups, their authorizations, and the service accounts.

The plan comes from master data (one `opd-<code>` group per OPD), so a changed OPD list adds or removes groups on
the next `python -m lapor.deploy`. Local logins (password = user id) exist only outside production.
"""

from lapor import masterdata
from lapor.process.identity import Grant, Group, IdentityPlan, Resource, User
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
SUPERVISORS = ("koordinator", "kepala-bidang")  # Cockpit, read-only

_TASKLIST = (
    Grant(Resource.APPLICATION, "tasklist", ("ACCESS",)),
    Grant(Resource.FILTER, "*", ("READ",)),
    # Tasklist shows the process name of each task.
    Grant(Resource.PROCESS_DEFINITION, PROCESS_ID, ("READ",)),
    Grant(Resource.PROCESS_DEFINITION, RECAP_PROCESS_ID, ("READ",)),
)
_COCKPIT_READ_ONLY = (
    Grant(Resource.APPLICATION, "cockpit", ("ACCESS",)),
    Grant(Resource.PROCESS_DEFINITION, "*", ("READ", "READ_INSTANCE", "READ_HISTORY")),
    Grant(Resource.PROCESS_INSTANCE, "*", ("READ",)),
    Grant(Resource.DECISION_DEFINITION, "*", ("READ", "READ_HISTORY")),
    Grant(Resource.DEPLOYMENT, "*", ("READ",)),
)
_WORKER_GRANTS = (
    # fetchAndLock needs to read the instance, complete/failure/bpmnError to update it.
    Grant(Resource.PROCESS_DEFINITION, "*", ("READ", "READ_INSTANCE", "UPDATE_INSTANCE")),
    Grant(Resource.PROCESS_INSTANCE, "*", ("READ", "UPDATE")),
)
_API_GRANTS = (
    # Start a report's instance, find it by tracking id (history), correlate replies, cancel a duplicate.
    Grant(
        Resource.PROCESS_DEFINITION,
        PROCESS_ID,
        ("READ", "CREATE_INSTANCE", "READ_INSTANCE", "UPDATE_INSTANCE", "DELETE_INSTANCE", "READ_HISTORY"),
    ),
    Grant(Resource.PROCESS_INSTANCE, "*", ("CREATE", "READ", "UPDATE", "DELETE")),
)


def identity_plan(settings: Settings) -> IdentityPlan:
    groups = [
        Group(group_id, name, _TASKLIST + (_COCKPIT_READ_ONLY if group_id in SUPERVISORS else ()))
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
    return IdentityPlan(groups=groups, users=users)


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
