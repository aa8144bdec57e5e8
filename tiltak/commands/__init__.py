"""One module per ``tiltak`` subcommand; each defines ``command``.

Keep imports of pandas, scikit-learn, DuckDB and matplotlib inside the command
functions: ``tiltak --help`` imports every module here.
"""
