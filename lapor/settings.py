"""Settings of every service, read once from the environment (prefix LAPOR_) or a .env file."""

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    # Empty values count as unset: compose passes "" for options an operator left out.
    model_config = SettingsConfigDict(env_prefix="LAPOR_", env_file=".env", extra="ignore", env_ignore_empty=True)

    environment: str = Field("development", description="development | production | test")
    log_format: str = Field("console", description="console (readable) or json")
    log_level: str = "INFO"

    database_url: str = f"sqlite:///{ROOT / 'var' / 'lapor.db'}"

    # The Operaton engine's REST API (HTTP Basic). Each service logs in with its own account: the workers as
    # svc-workers, the API as svc-api; `python -m lapor.deploy` creates them with the administrator's login.
    engine_url: str = "http://127.0.0.1:8080/engine-rest"
    engine_user: str = "admin"
    engine_password: str = "admin"  # noqa: S105 - local default; production sets LAPOR_ENGINE_PASSWORD
    engine_admin_user: str = "admin"
    engine_admin_password: str = "admin"  # noqa: S105 - local default; production sets its own
    # Service accounts that `python -m lapor.deploy` provisions (least privilege, never the administrator).
    worker_engine_password: str = "svc-workers"  # noqa: S105 - local default
    api_engine_password: str = "svc-api"  # noqa: S105 - local default
    # External-task worker: tasks per fetch, lock duration, long-poll wait.
    worker_max_tasks: int = 10
    worker_lock_seconds: int = 60
    worker_long_poll_seconds: int = 20

    # The SLA lengths are not settings: they are properties of the deadline tasks in bpmn/lapor-pengaduan.bpmn,
    # changed by a process designer and deployed (docs/designers.md). The old variables are refused, not ignored.
    extra_days_off: str = Field("", description="local days off on top of the national calendar, e.g. 2026-12-31")

    # Working-day calendar (issue 11): weekends, national holidays and cuti bersama (holidays package, categories
    # public + government) are off by default; `extra_days_off` above adds local days off.
    extra_working_days: str = Field(
        "", description="national holidays or cuti bersama the city works all the same (a regional decision), ISO dates"
    )

    # The citizen page's map (issue 22): a tile server with {z}/{x}/{y} in its URL and the attribution it asks for.
    # The page's Content-Security-Policy admits images from this server's origin only.
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_attribution: str = "© OpenStreetMap contributors"

    # Notifications: e-mail over SMTP, SMS through an HTTP gateway (disabled when no URL is set).
    admin_email: str = "pengaduan@pontianak.go.id"
    koordinator_email: str = "koordinator.pengaduan@pontianak.go.id"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_sender: str = "LAPOR! Pontianak <noreply@pontianak.go.id>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"

    # Where the national LAPOR! (Admin Pusat) adapter posts returned reports; unset = record only.
    national_lapor_url: str | None = None
    national_lapor_token: str | None = None

    data_dir: Path = ROOT / "var"

    # Citizen and intake API (api/): credentials of the other channels, signed file links, the outbox.
    file_signing_key: str | None = Field(
        None, description="HMAC key of signed photo/proof links, shared by API and workers; required in production"
    )
    audit_key: str | None = Field(
        None,
        description="HMAC key of the audit trail's chain, shared by API, workers and commands; required in production",
    )
    sms_webhook_secret: str | None = Field(
        None, description="HMAC-SHA256 secret of the SMS 1708 gateway webhook; unset refuses every SMS"
    )
    staff_api_tokens: str = Field("", description="comma-separated bearer tokens for staff intake")
    national_api_tokens: str = Field("", description="comma-separated bearer tokens of Admin Pusat (national LAPOR!)")
    sla_api_tokens: str = Field(
        "", description="comma-separated bearer tokens of GET /staff/sla (the engine's Cockpit SLA view holds one)"
    )
    outbox_dispatcher_enabled: bool = Field(True, description="run the outbox dispatcher inside the API process")
    outbox_concurrency: int = Field(
        8, ge=1, le=32, description="engine calls the outbox dispatcher makes side by side (one per report)"
    )
    audit_collect_seconds: float = Field(
        30.0, description="how often the API imports Tasklist's and Cockpit's actions into the audit trails"
    )

    # Worker process health (workers/health.py): /health and /metrics, and the stall guard.
    worker_health_host: str = "127.0.0.1"
    worker_health_port: int = 9101
    worker_stall_seconds: float = 60.0

    # API limits and trust (issue 10)
    # Database pool of each API process; a request holds at most one connection at a time.
    db_pool_size: int = Field(20, description="connections kept open by each API process")
    db_max_overflow: int = Field(10, description="extra connections opened under load, closed afterwards")
    db_pool_timeout_seconds: float = Field(10.0, description="wait for a free connection before answering 503")
    trusted_proxies: str = Field(
        "", description="comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed"
    )
    # Rate limits as "<count>/<window>" (window in s, m or h), or "off". A submission counts when it is checked,
    # before its photos are decoded, so a refused one counts too (refused work is not free).
    rate_limit_registration_ip: str = "20/1h"
    rate_limit_registration_identity: str = "5/1h"
    rate_limit_verification_ip: str = "30/10m"
    rate_limit_verification_registration: str = "10/10m"
    rate_limit_submission_ip: str = "30/1h"
    rate_limit_submission_reporter: str = "10/1h"
    # Failed staff sign-ins on the API's staff pages (/staf/masuk), by address and by user id; only refusals count.
    # The engine's own throttling applies as well: loginMaxAttempts (10 in a row) locks a login until Admin unlocks it.
    rate_limit_staff_login_ip: str = "20/15m"
    rate_limit_staff_login_user: str = "5/15m"
    # Anonymous reads of the Open311 list (GET /open311/v2/requests.json), by client address.
    rate_limit_open311_list_ip: str = "60/10m"
    # The nearby search is asked as a citizen types (the page waits between keystrokes): generous, but bounded.
    rate_limit_nearby_ip: str = "120/10m"
    # Downloads of one reporter's data (API, Data saya, the front desk's export): each builds a ZIP with every photo of
    # every report, so a few an hour; refused before anything is collected.
    rate_limit_export_reporter: str = "3/1h"
    nearby_radius_m: float = Field(
        150.0, gt=0, le=2000, description="radius of the nearby reports a citizen sees before submitting, in metres"
    )
    staff_session_hours: float = Field(4.0, description="how long a staff sign-in on the API's staff pages lasts")
    # Five 12 MP phone photos of up to 8 MiB each (detailed scenes at a phone's JPEG quality) and the form's text;
    # a single photo may be up to 40 MiB (a 108 MP photo), api/README.md "Limits".
    max_body_bytes: int = Field(42 * 1024 * 1024, description="largest request body, counted while it streams in")
    max_image_pixels: int = Field(
        25_000_000, description="largest PNG, WebP or multi-scan JPEG in pixels (a 24 MP photo fits)"
    )
    max_jpeg_pixels: int = Field(
        110_000_000, description="largest one-scan JPEG in pixels, decoded at reduced scale (a 108 MP photo fits)"
    )
    image_decode_concurrency: int = Field(2, description="photos decoded at the same time by each API process")

    # Retention (issue 23 item 3, lapor.retention): how long after a report closes its reporter's identity and its
    # photos are kept. At most 5 years: the engine's history of the same report expires then (P1825D).
    retention_identity_years: int = Field(
        2, ge=1, le=5, description="years after a reporter's last report closed (and last sign-in) before erasure"
    )
    retention_photo_years: int = Field(2, ge=1, le=5, description="years after a report closed before its photos go")
    retention_interval_hours: float = Field(
        24.0, gt=0, description="how often the workers apply the retention schedule (0 < h; daily by default)"
    )


# Settings that held SLA lengths before the lengths moved into the process model (issue 21).
RETIRED_SLA_SETTINGS = tuple(
    f"LAPOR_{name}"
    for name in (
        "VERIFICATION_WORKING_DAYS",
        "DISPOSITION_WORKING_DAYS",
        "DOCUMENTATION_WORKING_DAYS",
        "SUPPLEMENT_DAYS",
        "OPD_RESPONSE_WORKING_DAYS",
        "OPD_COMPLETION_WORKING_DAYS",
        "CITIZEN_CONFIRMATION_DAYS",
        "REMINDER_WORKING_DAYS_BEFORE",
    )
)


class RetiredSettingError(RuntimeError):
    """An SLA length is still set in the environment, where it no longer changes anything."""


def refuse_retired_settings(environ: Mapping[str, str]) -> None:
    """Stop a service that an operator configured with a retired SLA setting, saying where the length lives now."""
    found = sorted(name for name in RETIRED_SLA_SETTINGS if environ.get(name, "").strip())
    if found:
        raise RetiredSettingError(
            f"{', '.join(found)} no longer set SLA lengths: each length is the `length` property of its deadline "
            "task in bpmn/lapor-pengaduan.bpmn (see docs/designers.md); change it there, deploy with "
            "`python -m lapor.designer`, and remove the variable"
        )


@cache
def get_settings() -> Settings:
    refuse_retired_settings(os.environ)
    return Settings()
