"""Analytics over CAD history: import, call-type mapping, planning and staffing, evaluation datasets.

DuckDB is the embedded engine; Spark (PySpark) runs the same analysis for data beyond one machine.
This package depends on `crisisdesk.domain` only and never imports Django (tests/architecture
enforces it), so it is tested without a database.
"""
