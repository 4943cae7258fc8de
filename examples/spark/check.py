"""Checks the Spark job's budget against `huiqi eval --summary` on the same Parquet file."""

import json
import re
import subprocess
import sys
from decimal import Decimal

huiqi, pop, budget_file = sys.argv[1:4]
table = subprocess.run([huiqi, "eval", "--facts", pop, "--format", "table", "--quiet", "--lang", "en"], capture_output=True, text=True)
want = {}
for line in table.stdout.splitlines():
    m = re.match(r"^(\S+)\s+(\d+)\s+(\d+)\s+(-?[\d.]+)$", line.strip())
    if m and m.group(1) != "clause":
        want[m.group(1)] = {"granted": int(m.group(2)), "discretionary": int(m.group(3)), "total": m.group(4)}
total = re.search(r"\(([-\d.]+) yuan\)", table.stdout)
got = json.load(open(budget_file, encoding="utf-8"))
assert want, table.stdout + table.stderr
assert got["clauses"] == want, f"per clause differs:\nspark {got['clauses']}\ncli   {want}"
assert total and Decimal(got["total"]) == Decimal(total.group(1)), (got["total"], total and total.group(1))
print(f"spark budget = CLI budget: {len(want)} clauses, {got['rows']} enterprises, total {got['total']} yuan")
