"""The contribution story: a few plain sentences on what the evidence says.

The sentences are language-neutral messages (:func:`tiltak_base.catalogue.message`: a key
of the catalogue's ``story`` section and its parameters -- the model's titles, verdict and
rating codes, counts); the report renders them in its language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from logicmodel.model import LogicModel
from tiltak.evaluation.contribution import RATING_ORDER, ContributionAnalysis, Pathway
from tiltak.evaluation.model_reads import model_title, node_titles
from tiltak.evaluation.verdicts import Verdict, VerdictKind
from tiltak_base.catalogue import message, term

Message = dict[str, Any]


def _t(key: str, **values: Any) -> Message:
    return message(f"story.{key}", **values)


def _best_pathway(paths: Sequence[Pathway]) -> Pathway:
    """The strongest pathway (ties: the shortest, then the first in model order)."""
    return max(paths, key=lambda p: (RATING_ORDER.index(p.rating), -len(p.nodes)))


def _pathway_sentence(model: LogicModel, path: Pathway) -> Message:
    title = node_titles(model)
    measure = model_title(model)
    impact = title.get(path.nodes[-1], path.nodes[-1])
    if path.rating == "supported":
        return _t("supported", measure=measure, impact=impact, path=[title.get(n, n) for n in path.nodes])
    a, b = path.weakest or (path.nodes[0], path.nodes[-1])
    key = "untested" if path.rating == "untested" else "broken"
    return _t(key, measure=measure, impact=impact, a=title.get(a, a), b=title.get(b, b),
              rating=term(f"ratings.{path.rating}"))


def contribution_story(
    model: LogicModel,
    verdicts: Sequence[Verdict],
    analysis: ContributionAnalysis,
    delivery: Message | None,
) -> list[Message]:
    """Short sentences: delivery, each verdict, and the pathways.

    The last sentence is about the strongest pathway (its weakest link); before it, when
    some pathway is weakened or refuted, one sentence says where the chain breaks.

    ``delivery`` is the message of what was delivered, with disclosure control applied
    (``story.delivery``: "412 participants in 2012-01–2014-12"), or ``None`` when nothing
    was observed.
    """
    measure = model_title(model)
    sentences = [_t("delivered", measure=measure, what=delivery) if delivery
                 else _t("not_delivered", measure=measure)]
    title = node_titles(model)
    for verdict in verdicts:
        spec = verdict.change
        sentences.append(_t(
            "verdict", direction=term(f"directions.{spec.direction}"), node=title.get(spec.node or "", spec.node or spec.id),
            outcome=spec.outcome or spec.indicator or "–", verdict=term(f"verdicts.{verdict.kind.value}"),
        ))
    if not analysis.pathways:
        sentences.append(_t("no_pathway"))
        return sentences
    sentences.append(_pathways_sentence(model, analysis.pathways))
    return sentences


def _pathways_sentence(model: LogicModel, paths: Sequence[Pathway]) -> Message:
    """One conclusion over all pathways, consistent with the pathway table.

    The claim is judged on the strongest pathway; when it is supported but others break, the
    sentence says how many break and where the first does; when none is supported and some
    break while others are only untested, one sentence says both (never "breaks" in one
    sentence and "cannot yet tell" in the next)."""
    best = _best_pathway(paths)
    broken = [p for p in paths if p.rating in ("refuted", "weakened")]
    if not broken:
        return _pathway_sentence(model, best)
    if best.rating in ("refuted", "weakened"):  # every pathway breaks: say where the worst does
        worst = min(paths, key=lambda p: (RATING_ORDER.index(p.rating), len(p.nodes)))
        return _pathway_sentence(model, worst)
    title = node_titles(model)
    first = broken[0]
    a, b = first.weakest or (first.nodes[0], first.nodes[-1])
    impact = title.get(best.nodes[-1], best.nodes[-1])
    counts = {"n_broken": len(broken), "n": len(paths), "a": title.get(a, a), "b": title.get(b, b)}
    if best.rating == "supported":
        return _t("joined", first=_pathway_sentence(model, best), second=_t("also_broken", impact=impact, **counts))
    untested = [p for p in paths if p.rating == "untested"]
    c, d = untested[0].weakest or (untested[0].nodes[0], untested[0].nodes[-1])
    return _t("mixed", measure=model_title(model), impact=impact, n_open=len(untested),
              c=title.get(c, c), d=title.get(d, d), **counts)


def headline_kind(verdicts: Sequence[Verdict]) -> str:
    """The most informative verdict of a model, for a one-word summary."""
    order = [VerdictKind.CONTRADICTED, VerdictKind.CONFIRMED, VerdictKind.NOT_CONFIRMED,
             VerdictKind.INCONCLUSIVE, VerdictKind.NOT_TESTABLE]
    kinds = {v.kind for v in verdicts}
    return next((k.value for k in order if k in kinds), VerdictKind.NOT_TESTABLE.value)
