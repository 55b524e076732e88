"""Jinja2 templates (autoescaped), the Indonesian words and dates they show, and the headers of every page."""

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.web.session import WebSession
from lapor import masterdata
from lapor.models import MessageKind
from lapor.notifications.templates import format_date, format_due_date
from lapor.vocabulary import ReportType
from lapor.workdays import PONTIANAK_TZ

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/statis"

# Only this origin's stylesheet and photos; no script at all, no inline style, no framing.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The report form also runs this origin's script (static/foto.js: photos shrunk in the browser, upload progress),
# which may send the form back to this origin only.
FORM_POLICY = f"{PAGE_POLICY}; script-src 'self'; connect-src 'self'"
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "Cache-Control": "no-store",  # pages name the reporter; a shared computer's back button must not show them
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

REPORT_TYPE_LABELS = {kind.value: kind.label for kind in ReportType}
MESSAGE_LABELS = {kind.value: kind.label for kind in MessageKind}
# What each satisfaction rating means, next to its number on the confirmation form.
RATING_WORDS = {1: "Sangat tidak puas", 2: "Tidak puas", 3: "Cukup puas", 4: "Puas", 5: "Sangat puas"}


def wib(moment: datetime | None) -> str:
    """A moment in Pontianak time, e.g. "26 November 2026 10.00 WIB"."""
    if moment is None:
        return ""
    local = moment.astimezone(PONTIANAK_TZ)
    return f"{format_date(local.date())} {local:%H.%M} WIB"


def tanggal(day: date | None) -> str:
    return format_date(day) if day is not None else ""


def _locations() -> list[tuple[masterdata.Kecamatan, tuple[masterdata.Kelurahan, ...]]]:
    return [(k, masterdata.kelurahan_list(k.code)) for k in masterdata.kecamatan_list()]


def template_environment(*folders: Path) -> Environment:
    """The project's one way to render HTML: Jinja2, autoescaped, strict about missing values (citizen and staff);
    a template is looked up in the folders in order (the staff pages use the citizen page's form macros)."""
    return Environment(
        loader=FileSystemLoader(folders),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_environment = template_environment(TEMPLATES)
_environment.filters |= {"wib": wib, "batas_waktu": format_due_date, "tanggal": tanggal}
_environment.globals |= {
    "static": STATIC_PATH,
    "report_types": REPORT_TYPE_LABELS,
    "message_labels": MESSAGE_LABELS,
    "rating_words": RATING_WORDS,
}


def render(template: str, **values: Any) -> str:
    return _environment.get_template(template).render(**values)


def page(
    template: str,
    web: WebSession | None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page with the web session's CSRF token and cookies, and the pages' security headers."""
    values.setdefault("signed_in", web is not None and web.reporter is not None)
    values.setdefault("csrf", web.csrf if web is not None else "")
    values.setdefault("errors", {})
    values.setdefault("form", {})
    response = HTMLResponse(render(template, **values), status_code=status_code, headers=PAGE_HEADERS | (headers or {}))
    if web is not None:
        web.apply_cookies(response)
    return response


def categories() -> tuple[masterdata.Category, ...]:
    return masterdata.category_list()


def locations() -> list[tuple[masterdata.Kecamatan, tuple[masterdata.Kelurahan, ...]]]:
    return _locations()
