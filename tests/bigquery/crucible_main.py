"""Start crucible with one translation it lacks (run by the emulator's own venv).

crucible 0.1.0a2 passes BigQuery's `NORMALIZE(s[, NFC])` to DuckDB unchanged, and DuckDB has no
NORMALIZE: its NFC is `nfc_normalize(s)`. The product's SQL stays as it runs on BigQuery; only the
emulator's translation is completed. Other forms (NFD, NFKC, NFKD) stay unsupported, as crucible
would say for anything it cannot translate exactly.
"""

from __future__ import annotations

import sys

from crucible.cli import main
from crucible.dialects.bigquery import transforms
from crucible.dialects.bigquery.transforms.common import typed
from crucible.engine import CrucibleUnsupportedError
from sqlglot import exp


def normalize_nfc(tree: exp.Expr, _ctx: transforms.TransformContext) -> exp.Expr:
    """`NORMALIZE(s)` / `NORMALIZE(s, NFC)` → `nfc_normalize(s)`, a STRING."""
    for node in reversed(list(tree.find_all(exp.Normalize))):
        form = node.args.get("form")
        if form and form.name.upper() != "NFC":
            raise CrucibleUnsupportedError(f"NORMALIZE with {form.name.upper()}")
        node.replace(typed(exp.Anonymous(this="nfc_normalize", expressions=[node.this.copy()]), "STRING"))
    return tree


transforms.PIPELINE = (("normalize", normalize_nfc), *transforms.PIPELINE)

if __name__ == "__main__":
    sys.exit(main())
