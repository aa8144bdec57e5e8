"""JSON Schemas of the model and catalogue formats, for editors (yaml-language-server).

The files in ``schemas/`` are generated from these functions (``tiltak schema --write
schemas``); a test checks they are up to date.
"""

from __future__ import annotations

import json
from typing import Any

from logicmodel.catalogue import Catalogue
from logicmodel.model import LogicModel

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
FILES = {"logicmodel": "logicmodel.schema.json", "catalogue": "catalogue.schema.json"}


def _schema(cls: type, name: str, title: str) -> dict[str, Any]:
    body = cls.model_json_schema(by_alias=True, mode="validation")
    body.pop("title", None)
    return {"$schema": SCHEMA_DIALECT, "$id": f"https://tiltak.example/schemas/{FILES[name]}", "title": title, **body}


def model_schema() -> dict[str, Any]:
    """The JSON Schema of a logic model file (``models/*.yaml``)."""
    return _schema(LogicModel, "logicmodel", "tiltak logic model")


def catalogue_schema() -> dict[str, Any]:
    """The JSON Schema of an indicator catalogue file (``models/indicators.yaml``)."""
    return _schema(Catalogue, "catalogue", "tiltak indicator catalogue")


def schema_text(which: str = "logicmodel") -> str:
    """The schema as stable, indented JSON text ending in a newline."""
    schema = model_schema() if which == "logicmodel" else catalogue_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
