"""Form input checked by the API's own pydantic models, with their Indonesian messages placed next to each field."""

from collections.abc import Mapping
from typing import Annotated, TypeVar, cast

from fastapi import Form, UploadFile
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as FormFile

from api.errors import ApiError, validation_message
from lapor import contact_codes, intake
from lapor.refusals import Refused

M = TypeVar("M", bound=BaseModel)
GENERAL = "_"  # the key of a message about the whole form
# The fields of the report form's shared part (templates/_isian_laporan.html): citizen's page and front desk.
REPORT_FORM_FIELDS = ("report_type", "title", "description", "incident_date", "category", "lokasi", "address")


def text_fields(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    """The text fields a page sends back on a refusal (files are never kept)."""
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        if isinstance(value, str):
            values[name] = value
    return values


def files(form: FormData, name: str) -> list[UploadFile]:
    """The chosen files; a file input left empty sends one part without a name, which is no photo."""
    chosen = [f for f in form.getlist(name) if isinstance(f, FormFile) and (f.filename or f.size)]
    return cast("list[UploadFile]", chosen)  # what FastAPI hands the API's routes: the same object


def validate(
    model: type[M], values: Mapping[str, object], *, rename: Mapping[str, str] | None = None
) -> M | dict[str, str]:
    """The model, or the messages by form field (`rename` maps a model field to the form field showing it)."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as invalid:
        errors: dict[str, str] = {}
        for error in invalid.errors():
            location = [str(part) for part in error.get("loc", ())]
            field = location[0] if location else GENERAL
            field = (rename or {}).get(field, field)
            errors.setdefault(field, validation_message(error))
        return errors


def non_empty(values: Mapping[str, str]) -> dict[str, str]:
    """Fields left empty count as not given, as the API's optional form fields do."""
    return {name: value for name, value in values.items() if value.strip()}


# Where a refusal of the core's intake is shown on a report form (the citizen's and the front desk's).
REFUSAL_FIELDS: Mapping[type[Refused], str] = {
    intake.UnknownCategory: "category",
    intake.UnknownLocation: "lokasi",
    intake.InvalidIncidentDate: "incident_date",
    intake.IdentityConflict: "reporter_email",  # only the front desk's form names a reporter
}


def refusal_errors(refused: Refused) -> dict[str, str]:
    """A refusal of the core next to the field it concerns; a photo's refusal next to the photos."""
    if isinstance(refused, intake.InvalidText):  # the schemas refuse it first; named by the field it concerns
        return {refused.details["field"]: refused.message}
    return {REFUSAL_FIELDS.get(type(refused), "photos"): refused.message}


# The id of a pending code (a registration's or a correction's) as its form sends it back.
CodeId = Annotated[str, Form(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def is_code(value: str) -> bool:
    """Six ASCII digits, as the code pages ask for (the API's CodeSubmission says the same)."""
    stripped = value.strip()
    return len(stripped) == 6 and stripped.isdigit() and stripped.isascii()


def code_errors(refused: ApiError | Refused) -> dict[str, str]:
    """A wrong one-time code next to its field, with the tries left; any other refusal of a code above the form."""
    if isinstance(refused, contact_codes.CodeInvalid):
        return {"code": f"{refused.message} Sisa percobaan: {refused.attempts_left}."}
    return {GENERAL: refused.message}
