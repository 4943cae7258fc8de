"""huiqi (惠企): rules as code for Chinese enterprise-support policy.

    import huiqi
    rules = huiqi.load("policies")
    report = rules.evaluate({"行业": "电子信息制造业", "营业收入": {"2023": "8000万", "2024": "5.6亿"}})
    report["total"]                      # '500000.00' (amounts are exact decimal strings)
    out = rules.evaluate_arrow(table)    # pyarrow.Table: total, status/amount per clause (decimal128)

The answers are the `huiqi eval` command's: the same compiled evaluator runs underneath.
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import json as _json
import os as _os
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _huiqi
from ._huiqi import CompileError, Diagnostic, Error, FactsError

__all__ = ["load", "from_texts", "Rules", "Error", "CompileError", "FactsError", "Diagnostic"]


def _jsonable(v: Any) -> Any:
    # exact numbers cross as text, never as floats
    if isinstance(v, _decimal.Decimal):
        return str(v)
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()[:10]
    raise TypeError(f"facts hold JSON values, Decimal and dates; not {type(v).__name__}")


def _no_floats(v: Any, path: str) -> None:
    if isinstance(v, float):
        raise TypeError(f"{path or 'the value'} is a float; write numbers as decimal.Decimal, int or text")
    if isinstance(v, dict):
        for k, x in v.items():
            _no_floats(x, f"{path}.{k}" if path else str(k))
    elif isinstance(v, (list, tuple)):
        for i, x in enumerate(v):
            _no_floats(x, f"{path}[{i}]")


def _dumps(v: Any) -> str:
    _no_floats(v, "")
    return _json.dumps(v, ensure_ascii=False, default=_jsonable)


class Rules:
    """A compiled rule set. Load it once; it is safe to share between threads."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def evaluate(
        self,
        facts: Dict[str, Any],
        period: Optional[int] = None,
        ledger: Optional[Dict[str, Any]] = None,
        lang: str = "zh",
    ) -> Dict[str, Any]:
        """Evaluates one enterprise: exactly the `huiqi eval --format json` document.

        Amounts (`amount`, `cap`, `floor`, `total`, ledger amounts) are exact decimal strings.
        Raises FactsError (with `.diagnostics`, each naming its JSON path) for invalid facts.
        """
        text = self._native.evaluate_json(
            _dumps(facts), period, None if ledger is None else _dumps(ledger), lang
        )
        return _json.loads(text, parse_float=_decimal.Decimal)

    def evaluate_arrow(self, table: Any, period: Optional[int] = None) -> Any:
        """Evaluates every row of a pyarrow Table or RecordBatch whose columns are fact paths
        (`行业`, `营业收入.2024`, `贷款[0].利息.2024`, `$id`, `$period`; a list fact's own column
        holds its number of items). Returns a pyarrow.Table with one row per input row:
        `line`, `enterprise`, `period`, `total`, `error`, and `status:E23.5` / `amount:E23.5`
        per clause; amounts are decimal128(38, 2). A bad row is kept, with its `error`.
        """
        import pyarrow as pa

        if isinstance(table, pa.RecordBatch):
            batches = [table]
        elif isinstance(table, pa.Table):
            batches = table.to_batches()
        else:
            raise TypeError(f"evaluate_arrow takes a pyarrow Table or RecordBatch, not {type(table).__name__}")
        out = self._native.evaluate_batches(batches, period)
        return pa.Table.from_batches(out)

    def clauses(self) -> List[Dict[str, Optional[str]]]:
        """Every clause: policy, clause, title, kind, quote."""
        return self._native.clauses()

    def warnings(self) -> List[str]:
        """Lint warnings of the rule set (it compiled)."""
        return self._native.warnings()


PathLike = Union[str, "_os.PathLike[str]"]


def load(paths: Union[PathLike, Sequence[PathLike]] = "policies") -> Rules:
    """Loads and compiles `*.policy` files from files or folders (quotes verified against the
    `sources/` texts beside them). Raises CompileError with `.diagnostics`."""
    if isinstance(paths, (str, _os.PathLike)):
        paths = [paths]
    return Rules(_huiqi.load([_os.fspath(p) for p in paths]))


def from_texts(files: Dict[str, str]) -> Rules:
    """Compiles rule texts given as {file name: text}. Raises CompileError."""
    return Rules(_huiqi.from_texts(list(files.items())))
