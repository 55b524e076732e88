"""The routing decision generated from the master data (lapor.masterdata.bpmn_sync), evaluated by the real engine for
every category in every kecamatan: a category's own OPD, else the kecamatan office, else Diskominfo."""

import pytest

from lapor import masterdata
from lapor.process import EngineClient
from lapor.settings import Settings
from lapor.vocabulary import ROUTING_DECISION_ID

pytestmark = pytest.mark.engine


def evaluate(operaton: EngineClient, category: str, kecamatan_code: str) -> str:
    variables = {
        "category": {"value": category, "type": "String"},
        "kecamatanCode": {"value": kecamatan_code, "type": "String"},
    }
    # Raw: the decision evaluated alone, which only this test asks (the process evaluates it inside the engine).
    path = f"/decision-definition/key/{ROUTING_DECISION_ID}/evaluate"
    [result] = operaton.request("POST", path, json={"variables": variables})
    return str(result["opdCode"]["value"])


def test_the_engine_routes_every_category_in_every_kecamatan_as_the_master_data_says(
    operaton: EngineClient, provisioned: Settings
) -> None:
    offices = {f"Kecamatan {k.name}": k.code for k in masterdata.kecamatan_list()}
    office_of = {offices[o.name]: o.code for o in masterdata.opd_list() if o.kind is masterdata.OpdKind.KECAMATAN}
    for kecamatan in masterdata.kecamatan_list():
        for category in masterdata.category_list():
            expected = category.default_opd
            if expected == "DISKOMINFO":  # LAINNYA: triage at the kecamatan office first
                expected = office_of[kecamatan.code]
            assert evaluate(operaton, category.code, kecamatan.code) == expected, (category.code, kecamatan.code)
        assert evaluate(operaton, "TIDAK_ADA", kecamatan.code) == office_of[kecamatan.code]
    assert evaluate(operaton, "TIDAK_ADA", "61.71.99") == "DISKOMINFO"
    assert evaluate(operaton, "JALAN", "61.71.99") == "PUPR"
