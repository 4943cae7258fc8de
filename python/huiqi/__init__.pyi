import os
from typing import Any, Dict, List, Optional, Sequence, Union

import pyarrow

PathLike = Union[str, os.PathLike[str]]

class Diagnostic:
    code: str
    severity: str
    file: str
    line: Optional[int]
    column: Optional[int]
    path: Optional[str]
    message: str
    help: Optional[str]

class Error(Exception):
    diagnostics: List[Diagnostic]

class CompileError(Error): ...
class FactsError(Error): ...

class Rules:
    def evaluate(
        self,
        facts: Dict[str, Any],
        period: Optional[int] = None,
        ledger: Optional[Dict[str, Any]] = None,
        lang: str = "zh",
    ) -> Dict[str, Any]: ...
    def evaluate_arrow(
        self, table: Union[pyarrow.Table, pyarrow.RecordBatch], period: Optional[int] = None
    ) -> pyarrow.Table: ...
    def clauses(self) -> List[Dict[str, Optional[str]]]: ...
    def warnings(self) -> List[str]: ...

def load(paths: Union[PathLike, Sequence[PathLike]] = "policies") -> Rules: ...
def from_texts(files: Dict[str, str]) -> Rules: ...
