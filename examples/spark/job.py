"""Evaluate a Parquet population against a rule set on Spark, with huiqi's Python package.

    spark-submit examples/spark/job.py POP.parquet RESULTS_DIR [--policies policies] [--period 2024]

Each executor loads (compiles) the rule set once, on its first batch, and keeps it for the
rest of its life; rows travel as Arrow batches (DataFrame.mapInArrow) straight into huiqi's
columnar evaluator, and come back as one row per enterprise: total, and a status and an
exact decimal(38, 2) amount per clause, with bad rows kept and their `error` filled in.
Writes RESULTS_DIR/rows (Parquet) and RESULTS_DIR/budget.json (per clause: enterprises
granted, discretionary, and the cash total, as `huiqi eval --summary` reports it).
"""

import argparse
import json
import os
from decimal import Decimal

_RULES = {}


def rules_for(policies):
    """The rule set of this Python worker, compiled on first use."""
    import huiqi

    r = _RULES.get(policies)
    if r is None:
        r = _RULES[policies] = huiqi.load(policies)
    return r


def output_schema(policies):
    from pyspark.sql.types import DecimalType, IntegerType, LongType, StringType, StructField, StructType

    fields = [
        StructField("line", LongType(), False),
        StructField("enterprise", StringType(), True),
        StructField("period", IntegerType(), True),
        StructField("total", DecimalType(38, 2), True),
        StructField("error", StringType(), True),
    ]
    import pyarrow as pa

    # the columns are the ones huiqi returns: ask it once on the driver (not through the
    # workers' cache, which must stay empty here: the function shipped to them captures it)
    import huiqi

    empty = huiqi.load(policies).evaluate_arrow(pa.table({"$id": pa.array([], pa.string())}))
    for name in empty.column_names[5:]:
        kind = DecimalType(38, 2) if name.startswith("amount:") else StringType()
        fields.append(StructField(name, kind, True))
    return StructType(fields)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("population")
    ap.add_argument("out")
    ap.add_argument("--policies", default="policies")
    ap.add_argument("--period", type=int, default=None)
    ap.add_argument("--master", default=None, help="e.g. local[2]; default: spark-submit's")
    a = ap.parse_args()
    policies = os.path.abspath(a.policies)

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    builder = SparkSession.builder.appName("huiqi-eval")
    if a.master:
        builder = builder.master(a.master)
    spark = builder.getOrCreate()

    df = spark.read.parquet(a.population)
    # fact paths (`营业收入.2024`) are column names Spark would read as struct fields: the
    # columns cross mapInArrow under plain names and get their paths back inside the worker
    names = df.columns
    schema = output_schema(policies)
    out_names = schema.fieldNames()
    from pyspark.sql.types import StructField, StructType

    plain_schema = StructType([StructField(f"o{i}", f.dataType, f.nullable) for i, f in enumerate(schema.fields)])

    def evaluate(batches):
        import pyarrow as pa

        rules = rules_for(policies)
        for b in batches:
            b = pa.RecordBatch.from_arrays(b.columns, names=names)
            for r in rules.evaluate_arrow(b, period=a.period).to_batches():
                yield pa.RecordBatch.from_arrays(r.columns, names=[f"o{i}" for i in range(r.num_columns)])

    plain = df.toDF(*[f"c{i}" for i in range(len(names))])
    rows = plain.mapInArrow(evaluate, plain_schema).toDF(*out_names)
    rows.write.mode("overwrite").parquet(os.path.join(a.out, "rows"))

    # the budget: per clause, enterprises granted / discretionary and the cash total of the
    # clauses that pay cash (kind benefit), read back from the written rows
    res = spark.read.parquet(os.path.join(a.out, "rows"))
    import huiqi

    cash = {f"{c['policy']}.{c['clause']}" for c in huiqi.load(policies).clauses() if c["kind"] == "benefit"}
    aggs = []
    clauses = [n[len("status:"):] for n in res.columns if n.startswith("status:")]
    for c in clauses:
        st, am = F.col(f"`status:{c}`"), F.col(f"`amount:{c}`")
        aggs += [
            F.sum(F.when(st == "granted", 1).otherwise(0)).alias(f"g:{c}"),
            F.sum(F.when(st == "discretionary", 1).otherwise(0)).alias(f"d:{c}"),
            F.sum(F.when(st == "granted", am)).alias(f"t:{c}"),
        ]
    aggs += [F.count(F.lit(1)).alias("rows"), F.sum(F.when(F.col("error").isNotNull(), 1).otherwise(0)).alias("failed")]
    r = res.agg(*aggs).collect()[0].asDict()
    budget = {"rows": int(r["rows"]), "failed": int(r["failed"]), "clauses": {}}
    grand = Decimal(0)
    for c in clauses:
        g, d = int(r[f"g:{c}"] or 0), int(r[f"d:{c}"] or 0)
        t = r[f"t:{c}"] if c in cash and r[f"t:{c}"] is not None else Decimal(0)
        if g or d:
            budget["clauses"][c] = {"granted": g, "discretionary": d, "total": f"{Decimal(t):.2f}"}
            grand += Decimal(t)
    budget["total"] = f"{grand:.2f}"
    with open(os.path.join(a.out, "budget.json"), "w", encoding="utf-8") as f:
        json.dump(budget, f, ensure_ascii=False, indent=1)
    print(json.dumps(budget, ensure_ascii=False))
    spark.stop()


if __name__ == "__main__":
    main()
