"""The ``monitoring`` package.

The public API is re-exported lazily (PEP 562): importing ``monitoring`` or
``monitoring.errors`` does not import pandas, DuckDB or scikit-learn; the first use of a
name imports the module that defines it. Add a public name by adding it to ``_LAZY``.
"""

from __future__ import annotations

from tiltak_base.lazy import lazy_exports

# public name -> module (relative to this package) that defines it
_LAZY: dict[str, str] = {
    "MonitoringError": "errors",
    "CONTRACT": "contract",
    "Store": "store",
    "StoreError": "store",
    "Migration": "migrations",
    "register_migration": "migrations",
    "load_directory": "load",
    "load_tables": "load",
    "LoadReport": "load",
    "TableLoad": "load",
    "LoadRefused": "load_problems",
    "ExtractError": "load_problems",
    "PseudonymKey": "pseudonym",
    "PseudonymKeyError": "pseudonym",
    "build_panel": "panel",
    "IndicatorSpec": "indicators",
    "indicator_spec": "indicators",
    "IndicatorDefinitionError": "indicators",
    "compile_plan": "sqlcompile",
    "execute_plan": "sqlcompile",
    "check_catalogue": "filters",
    "FilterError": "filters",
    "SchemaBinder": "filters",
    "MonitoredModel": "monitored",
    "load_monitored_model": "monitored",
    "ModelInputError": "monitored",
    "run_models": "runs",
    "PeriodRange": "runs",
    "RunResult": "runs",
    "RunInProgressError": "runs",
    "RunInputError": "runs",
    "TargetLine": "targets",
    "target_line": "targets",
    "status": "targets",
    "trend": "targets",
    "QualityFinding": "quality",
    "Thresholds": "disclosure",
    "suppress": "disclosure",
    "protect": "disclosure",
    "value_table": "show",
    "ShownValue": "show",
    "explain_text": "explain",
    "KINDS": "kinds",
    "IndicatorKind": "kinds",
    "indicator_kind": "kinds",
    "Engine": "engines",
    "EngineError": "engines",
    "open_engine": "engines",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
