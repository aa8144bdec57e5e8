"""logicmodel: theories of change as validated data.

YAML model and catalogue files are loaded with source positions
(:func:`load_yaml`), validated by pydantic schemas (:class:`LogicModel`,
:class:`Catalogue`) and semantic rules (``LM0nn``, see ``docs/rules.md``) and turned into
a ``networkx.DiGraph`` (:func:`to_graph`). This package never imports pandas, numpy,
scikit-learn or DuckDB.

Public names are imported on first use (PEP 562), so ``import logicmodel.errors`` stays
cheap.
"""

from __future__ import annotations

from tiltak_base.lazy import lazy_exports

# public name -> module (relative to this package) that defines it
_LAZY: dict[str, str] = {
    "Catalogue": "catalogue",
    "dump_yaml": "yamlsource",
    "find_cycles": "graph",
    "Indicator": "catalogue",
    "InvalidDocumentError": "errors",
    "Issue": "issues",
    "load_bundle": "loading",
    "load_catalogue": "loading",
    "load_model": "loading",
    "load_yaml": "yamlsource",
    "LocalizedText": "fields",
    "LogicModel": "model",
    "LogicModelError": "errors",
    "ModelBundle": "loading",
    "parse_yaml": "yamlsource",
    "Partial": "partial",
    "partial": "partial",
    "pathways": "graph",
    "Position": "yamlsource",
    "reachable_from": "graph",
    "Rule": "rules",
    "RULES": "rules",
    "SourceError": "errors",
    "text_in": "fields",
    "to_graph": "graph",
    "to_node_link": "graph",
    "UnparsedPart": "partial",
    "validate_model": "validation",
    "validate_paths": "validation",
    "ValidationReport": "validation",
    "YamlDocument": "yamlsource",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
