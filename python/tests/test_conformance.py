"""The conformance corpus (tests/conformance/*.json) through the Python API: the same
documents as the Rust library and the command line, to the byte."""

import json
import pathlib
from decimal import Decimal

import pytest

import huiqi

ROOT = pathlib.Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "tests" / "conformance").glob("*.json"))


@pytest.fixture(scope="module")
def policies():
    return huiqi.load(str(ROOT / "policies"))


def test_the_corpus_is_there():
    assert len(CASES) >= 60


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case(policies, path):
    case = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    rules = policies if case["rules"] == "policies" else huiqi.from_texts(case["rules"])
    got = rules.evaluate(case["facts"], period=case["period"], ledger=case["ledger"])
    assert got == case["expected"], case["name"]
