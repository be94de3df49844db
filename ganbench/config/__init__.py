"""Suites: the schema, validation with field paths (nothing is trained), the matrix
of runs."""
