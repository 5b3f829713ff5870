"""Install the packaged DuckDB spatial extension where bqemulator's DuckDB looks for it (its $HOME)."""

from pathlib import Path

import duckdb
import duckdb_extension_spatial

package = Path(duckdb_extension_spatial.__file__).parent
extension = next(package.glob(f"extensions/v{duckdb.__version__}/spatial.duckdb_extension"))
duckdb.connect().execute(f"install '{extension}'")
