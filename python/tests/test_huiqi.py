"""The Python binding against the CLI, the conformance corpus and Arrow."""

import json
import os
import pathlib
import subprocess
from decimal import Decimal

import pytest

import huiqi

ROOT = pathlib.Path(__file__).resolve().parents[2]
POLICIES = str(ROOT / "policies")
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
HUIQI = os.environ.get("HUIQI_BIN", str(ROOT / "target" / "release" / "huiqi"))


@pytest.fixture(scope="module")
def rules():
    return huiqi.load(POLICIES)


def cli(*args):
    out = subprocess.run([HUIQI, *args], capture_output=True, text=True, cwd=ROOT)
    return out


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_evaluate_is_the_cli_document(rules, example):
    want = json.loads(cli("eval", "--facts", str(example), "--format", "json").stdout)
    got = rules.evaluate(json.loads(example.read_text()))
    assert got == want


def test_amounts_are_exact_strings_never_floats(rules):
    r = rules.evaluate({"行业": "电子信息制造业", "营业收入": {"2023": "8000万", "2024": Decimal("560000000.00")}})
    e5 = next(x for x in r["results"] if x["policy"] == "E23" and x["clause"] == "5")
    assert e5["status"] == "granted" and e5["amount"] == "500000.00"
    assert r["total"] == "500000.00" and Decimal(r["total"]) == Decimal("500000")
    with pytest.raises(TypeError):
        rules.evaluate({"营业收入": {"2024": 1.5}})


def test_facts_errors_name_their_path(rules):
    with pytest.raises(huiqi.FactsError) as e:
        rules.evaluate({"营收": "1亿", "营业收入": {"2024": "abc"}}, period=2024)
    d = {x.path: x for x in e.value.diagnostics}
    assert d["营收"].code == "E0402" and "营业收入" in (d["营收"].help or "")
    assert d["营业收入.2024"].code == "E0403"
    assert isinstance(e.value, huiqi.Error)


def test_compile_errors_carry_diagnostics(tmp_path):
    (tmp_path / "bad.policy").write_text("policy X {\n", encoding="utf-8")
    with pytest.raises(huiqi.CompileError) as e:
        huiqi.load(tmp_path)
    d = e.value.diagnostics[0]
    assert d.code.startswith("E01") and d.file.endswith("bad.policy")
    assert d.line >= 1 and d.column >= 1 and d.message


def test_ledger_and_lang(rules, tmp_path):
    facts = {"行业": "电子信息制造业", "营业收入": {"2023": "8000万", "2024": "5.6亿", "2025": "12亿"}}
    first = rules.evaluate(facts, period=2024, lang="en")
    assert first["ledger"], first
    ledger = {"schema_version": 1, "entries": first["ledger"]}
    again = rules.evaluate(facts, period=2025, ledger=ledger, lang="en")
    (tmp_path / "f.json").write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "l.json").write_text(json.dumps(ledger, ensure_ascii=False), encoding="utf-8")
    want = cli("eval", "--facts", str(tmp_path / "f.json"), "--period", "2025", "--ledger", str(tmp_path / "l.json"),
               "--format", "json", "--lang", "en")
    assert again == json.loads(want.stdout)
    e5 = next(x for x in again["results"] if x["policy"] == "E23" and x["clause"] == "5")
    assert e5["status"] == "granted" and e5["amount"] == "1000000.00"  # the 10亿 tier, not paid before
    with pytest.raises(ValueError):
        rules.evaluate(facts, lang="fr")


def test_clauses(rules):
    cs = rules.clauses()
    e5 = next(c for c in cs if c["policy"] == "E23" and c["clause"] == "5")
    assert e5["title"] == "鼓励企业壮大规模" and e5["kind"] == "benefit" and "1 亿元" in e5["quote"]
    assert len(cs) >= 60


def test_evaluate_arrow_agrees_with_the_cli_to_the_fen(rules, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pop = tmp_path / "pop.parquet"
    jsonl = tmp_path / "pop.jsonl"
    assert cli("gen-population", "--count", "3000", "--seed", "11", "--format", "parquet", "--output", str(pop)).returncode == 0
    assert cli("gen-population", "--count", "3000", "--seed", "11", "--output", str(jsonl)).returncode == 0
    rows = [json.loads(l) for l in cli("eval", "--facts", str(jsonl), "--format", "jsonl").stdout.splitlines()]
    table = pq.read_table(pop)
    out = rules.evaluate_arrow(table)
    assert out.num_rows == 3000 == len(rows)
    assert out.schema.field("total").type == pa.decimal128(38, 2)
    got = [str(v) if v is not None else None for v in out.column("total").to_pylist()]
    assert got == [r["total"] for r in rows]
    # per clause, the same amounts as the JSON-lines rows
    for r, i in zip(rows[:200], range(200)):
        for res in r["results"]:
            col = f"amount:{res['policy']}.{res['clause']}"
            v = out.column(col)[i].as_py()
            assert (None if v is None else f"{v:.2f}") == res["amount"], (i, col)
    # one RecordBatch works too
    assert rules.evaluate_arrow(table.to_batches()[0]).num_rows == table.to_batches()[0].num_rows


def test_bad_rows_are_kept_with_their_error(rules):
    pa = pytest.importorskip("pyarrow")
    t = pa.table(
        {
            "$id": ["A", "B", "C"],
            "行业": ["电子信息制造业", "不存在的行业", None],
            "营业收入.2023": pa.array([Decimal("80000000.00"), None, Decimal("1")], pa.decimal128(20, 2)),
            "营业收入.2024": ["5.6亿", "1亿", "abc"],
        }
    )
    out = rules.evaluate_arrow(t, period=2024).to_pylist()
    assert [r["enterprise"] for r in out] == ["A", "B", "C"]
    assert out[0]["error"] is None and out[0]["total"] == Decimal("500000.00")
    assert out[0]["amount:E23.5"] == Decimal("500000.00")
    assert "行业" in out[1]["error"] and out[1]["total"] is None
    assert "营业收入.2024" in out[2]["error"]
    floats = pa.table({"营业收入.2024": pa.array([1.5], pa.float64())})
    assert "Float64" in rules.evaluate_arrow(floats, period=2024).to_pylist()[0]["error"]
