"""The smallest monitored model the monitoring tests write: two nodes, one link, the indicators given."""

from __future__ import annotations


def monitored_model(model_id: str, indicators: str, extra: str = "") -> str:
    """A model's YAML text with ``indicators`` (a YAML flow list's inside) under ``monitoring``,
    then ``extra`` (more lines of the ``monitoring`` mapping, indented two spaces)."""
    return f"""id: {model_id}
title: {{nb: "Test", en: "Test"}}
version: "1.0"
measure: VV
period: {{start: "2012-01"}}
nodes:
  - {{id: a, level: activity, title: "A"}}
  - {{id: b, level: impact, title: "B"}}
links:
  - {{from: a, to: b, mechanism: "m"}}
monitoring:
  indicators: [{indicators}]
{extra}"""
