"""Start bqemulator with two translation fixes the product's SQL needs (run by the emulator's own venv).

bqemulator 1.4.0 passes BigQuery's `DATE_TRUNC(d, ISOWEEK)` to DuckDB unchanged, and DuckDB rejects
the `ISOWEEK` specifier. The ISO week starts on Monday, which is DuckDB's own `week` unit, so the
fix is the same call with that unit, cast back to DATE as BigQuery returns it. It also passes
`NORMALIZE(s, NFC)` unchanged, and DuckDB's NFC is `nfc_normalize(s)`. The product's SQL stays as it
runs on BigQuery; only the emulator's translation is corrected.
"""

from __future__ import annotations

from bqemulator.cli import main
from bqemulator.sql.rules import TranslationRule, register
from sqlglot import exp


@register
class DateTruncIsoweekRule(TranslationRule):
    """`DATE_TRUNC(d, ISOWEEK)` → `CAST(DATE_TRUNC('WEEK', d) AS DATE)`."""

    name = "DATE_TRUNC_ISOWEEK"

    def applies_to(self, node: exp.Expression) -> bool:
        """Match `DATE_TRUNC` calls whose unit is ISOWEEK."""
        unit = node.args.get("unit") if isinstance(node, exp.DateTrunc) else None
        return unit is not None and unit.name.upper() == "ISOWEEK"

    def rewrite(self, node: exp.Expression) -> exp.Expression:
        """Truncate to DuckDB's Monday-start week and keep BigQuery's DATE type."""
        monday = exp.DateTrunc(this=node.this.copy(), unit=exp.Literal.string("WEEK"))
        return exp.Cast(this=monday, to=exp.DataType.build("DATE"))


@register
class NormalizeNfcRule(TranslationRule):
    """`NORMALIZE(s)` / `NORMALIZE(s, NFC)` → `nfc_normalize(s)`."""

    name = "NORMALIZE_NFC"

    def applies_to(self, node: exp.Expression) -> bool:
        """Match NORMALIZE calls in the default form (NFC)."""
        form = node.args.get("form") if isinstance(node, exp.Normalize) else None
        return isinstance(node, exp.Normalize) and (not form or form.name.upper() == "NFC")

    def rewrite(self, node: exp.Expression) -> exp.Expression:
        """DuckDB's NFC function."""
        return exp.Anonymous(this="nfc_normalize", expressions=[node.this.copy()])


if __name__ == "__main__":
    main()
