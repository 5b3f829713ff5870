"""The warehouse: the source check, dbt, and the readers of the report marts."""
