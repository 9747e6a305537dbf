"""preservation: which recordings are at risk of loss, and which may lawfully be preserved.

The pipeline is a chain of stages reading and writing DuckDB tables:
harvest -> normalize -> link -> assess -> report (see pipeline.py).
"""

__version__ = "0.1.0"
