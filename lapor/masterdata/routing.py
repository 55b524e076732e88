"""What the master data says about routing, as bpmn/ needs it: the rules of the routing decision (from
categories.csv, opd.csv and wilayah.csv) and the options of the disposition form's OPD select (from opd.csv).

lapor.masterdata.bpmn_sync writes them into the two files and checks the files against them.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lapor.masterdata import Category, MasterData, Opd, OpdKind

# Diskominfo coordinates complaints: the decision's last resort, and a category routed to it has no rule of its own
# (LAINNYA goes to the kecamatan office first, as triage there is closer to the place).
COORDINATOR_OPD = "DISKOMINFO"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in bpmn/ (or the master data) that keeps the models out of step, in a process designer's words."""

    file: str  # as a designer finds it: "bpmn/routing-opd.dmn"
    element: str  # the rule id, the form field key, or the master-data code
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file} [{self.element}]: {self.message}. Perbaikan: {self.fix}"


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """One rule of the routing decision: categories (any when empty) and kecamatan (any when None) to an OPD."""

    id: str
    description: str
    categories: tuple[str, ...]
    kecamatan_code: str | None
    opd_code: str

    def entries(self) -> tuple[tuple[str, str], tuple[str, str], tuple[str, str]]:
        """(id, FEEL text) of the category entry, the kecamatan entry and the output entry."""
        category = ", ".join(f'"{code}"' for code in self.categories) or "-"
        kecamatan = f'"{self.kecamatan_code}"' if self.kecamatan_code else "-"
        return (
            (f"{self.id}Category", category),
            (f"{self.id}Kecamatan", kecamatan),
            (f"{self.id}Opd", f'"{self.opd_code}"'),
        )


class OutOfStepError(Exception):
    """The generated parts cannot be written: the problems say why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def _pascal(code: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", code) if part)


def _quoted_names(categories: Sequence[Category]) -> str:
    names = [f'"{c.name}"' for c in categories]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " dan " + names[-1]


def routing_rules(data: MasterData) -> tuple[list[RoutingRule], list[Problem]]:
    """The decision's rules, first match wins: category to its technical OPD, kecamatan office, coordinator."""
    opds = {o.code: o for o in data.opds}
    problems: list[Problem] = []
    by_opd: dict[str, list[Category]] = {}
    for category in data.categories:
        if category.default_opd not in opds:
            problems.append(_data_problem("categories.csv", category.code, f"default_opd {category.default_opd}"))
        elif category.default_opd != COORDINATOR_OPD:
            by_opd.setdefault(category.default_opd, []).append(category)
    rules = [
        RoutingRule(
            id=f"Category{'Or'.join(_pascal(c.code) for c in group)}Rule",
            description=f"Kategori {_quoted_names(group)}: {opds[code].name}",
            categories=tuple(c.code for c in group),
            kecamatan_code=None,
            opd_code=code,
        )
        for code, group in by_opd.items()
    ]
    rules += _kecamatan_rules(data, problems)
    coordinator = opds.get(COORDINATOR_OPD)
    if coordinator is None:
        problems.append(_data_problem("opd.csv", COORDINATOR_OPD, "koordinator pengaduan"))
    else:
        rules.append(
            RoutingRule(
                id=f"Fallback{_pascal(coordinator.code)}Rule",
                description="Selain itu (kategori/kecamatan tidak dikenali): "
                f"{coordinator.short_name} sebagai koordinator pengaduan",
                categories=(),
                kecamatan_code=None,
                opd_code=coordinator.code,
            )
        )
    return rules, problems


def _kecamatan_rules(data: MasterData, problems: list[Problem]) -> list[RoutingRule]:
    """A kecamatan office is the OPD of kind kecamatan named "Kecamatan <name in wilayah.csv>"."""
    by_name = {f"Kecamatan {k.name}": k for k in data.kecamatan}
    coordinated = [c for c in data.categories if c.default_opd == COORDINATOR_OPD]
    which = f"Kategori {_quoted_names(coordinated)} atau kategori lain" if coordinated else "Kategori tanpa OPD teknis"
    offices = [o for o in data.opds if o.kind is OpdKind.KECAMATAN]
    rules: list[RoutingRule] = []
    for office in offices:
        kecamatan = by_name.get(office.name)
        if kecamatan is None:
            problems.append(
                Problem(
                    "lapor/masterdata/opd.csv",
                    office.code,
                    f"kantor kecamatan {office.name!r} tidak menyebut kecamatan mana pun di wilayah.csv",
                    'beri nama "Kecamatan " + nama kecamatan di wilayah.csv, atau ganti kind-nya',
                )
            )
            continue
        rules.append(
            RoutingRule(
                id=f"Kecamatan{_pascal(kecamatan.name)}Rule",
                description=f"{which} di Kecamatan {kecamatan.name}: kantor kecamatan",
                categories=(),
                kecamatan_code=kecamatan.code,
                opd_code=office.code,
            )
        )
    served = {rule.kecamatan_code for rule in rules}
    for kecamatan in data.kecamatan:
        if kecamatan.code not in served:
            problems.append(
                Problem(
                    "lapor/masterdata/wilayah.csv",
                    kecamatan.code,
                    f"Kecamatan {kecamatan.name} tidak punya kantor kecamatan di opd.csv",
                    f'tambahkan baris kind kecamatan bernama "Kecamatan {kecamatan.name}" ke opd.csv',
                )
            )
    return rules


def _data_problem(filename: str, code: str, what: str) -> Problem:
    return Problem(
        f"lapor/masterdata/{filename}",
        code,
        f"{what} bukan OPD di opd.csv",
        "tambahkan OPD itu ke opd.csv atau perbaiki kodenya",
    )


def form_options(data: MasterData) -> list[dict[str, str]]:
    """The options of the disposition form's OPD select: every OPD, in opd.csv's order."""
    return [{"label": _option_label(opd), "value": opd.code} for opd in data.opds]


def _option_label(opd: Opd) -> str:
    return f"{opd.short_name} — {opd.name}"
