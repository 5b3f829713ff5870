"""BigQuery cost on paper, from the prod target's compiled SQL (used by benchmarks/bq_cost.py and a test).

BigQuery on-demand bills the bytes of the columns a query references in the partitions it cannot
prune, with a 10 MB minimum per table referenced. Only the staging models select from the source
(ephemeral: every model that needs tickets inlines them), so a run's source partitions are their
literal bounds on event_create_time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlglot
from sqlglot import exp

SOURCE = "source.voc_weekly.zendesk.zendesk_voc_classified"
MIN_BYTES_PER_TABLE = 10 * 1024**2


@dataclass(frozen=True)
class SourceScan:
    """What one compiled query reads of the partitioned source."""

    columns: tuple[str, ...]
    since: datetime | None  # the lower bound on event_create_time (UTC), None = the whole history
    until: datetime | None  # the upper bound, None = through the newest partition


def source_scan(compiled_sql: str, source_table: str) -> SourceScan | None:
    """The partition bounds and columns a compiled query reads of `source_table` (None: not at all).

    A select filtered on `event_create_time IS NULL` alone reads only the partition BigQuery keeps for
    rows without a time (the rejected-rows view counts them): it is not a scan of the window.
    """
    tree = sqlglot.parse_one(compiled_sql, read="bigquery")
    name = source_table.split(".")[-1]
    for select in tree.find_all(exp.Select):
        from_ = select.args.get("from_")
        table = from_.this if from_ else None
        if not isinstance(table, exp.Table) or table.name != name:
            continue
        since = until = None
        where = select.args.get("where")
        if where and _is_null_partition(where.this):
            continue
        for comparison in where.find_all(exp.GTE, exp.GT, exp.LT, exp.LTE) if where else ():
            column, bound = comparison.this, comparison.expression
            if isinstance(column, exp.Column) and column.name == "event_create_time":
                literal = bound.find(exp.Literal)
                moment = datetime.fromisoformat(literal.this) if literal else None
                if isinstance(comparison, exp.GTE | exp.GT):
                    since = moment
                else:
                    until = moment
        stars = any(isinstance(projection, exp.Star) for projection in select.selects)
        columns = ("*",) if stars else tuple(p.alias_or_name for p in select.selects)
        return SourceScan(columns, since, until)
    return None


def _is_null_partition(condition: exp.Expression) -> bool:
    """`event_create_time IS NULL`, and nothing else."""
    return (
        isinstance(condition, exp.Is)
        and isinstance(condition.this, exp.Column)
        and condition.this.name == "event_create_time"
        and isinstance(condition.expression, exp.Null)
    )


def models_reading_the_source(manifest_path: Path, source: str) -> dict[str, list[str]]:
    """Each stored model whose query reads the source (dbt `source` name), with the staging models it
    inlines, directly or through ephemeral models."""
    nodes = json.loads(manifest_path.read_text(encoding="utf-8"))["nodes"]
    models = {uid: node for uid, node in nodes.items() if node["resource_type"] == "model"}
    staging = {uid for uid, node in models.items() if source in node["depends_on"]["nodes"]}

    def inlined(uid: str) -> set[str]:
        """The staging models a model's query inlines."""
        found = set()
        for parent in models[uid]["depends_on"]["nodes"]:
            if parent in staging:
                found.add(models[parent]["name"])
            elif parent in models and models[parent]["config"]["materialized"] == "ephemeral":
                found |= inlined(parent)
        return found

    readers = {
        node["name"]: sorted(inlined(uid))
        for uid, node in models.items()
        if node["config"]["materialized"] != "ephemeral"
    }
    return {name: through for name, through in sorted(readers.items()) if through}
