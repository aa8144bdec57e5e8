"""The contribution story: a few plain sentences on what the evidence says, in nb and en."""

from __future__ import annotations

from collections.abc import Sequence

from tiltak.evaluation.contribution import RATING_ORDER, ContributionAnalysis, Pathway
from tiltak.evaluation.model_view import ModelView
from tiltak.evaluation.verdicts import Verdict, VerdictKind
from tiltak.evaluation.wording import RATING_LABELS, VERDICT_LABELS, label

_T = {
    "delivered": {
        "en": "{measure} was delivered: {what}.",
        "nb": "{measure} ble gjennomført: {what}.",
    },
    "not_delivered": {
        "en": "There is no monitored evidence that {measure} was delivered.",
        "nb": "Overvåkingen viser ikke at {measure} ble gjennomført.",
    },
    "verdict": {
        "en": "Expected {direction} in “{node}” ({outcome}): {verdict}.",
        "nb": "Forventet {direction} i «{node}» ({outcome}): {verdict}.",
    },
    "supported": {
        "en": "The evidence is consistent with {measure} contributing to “{impact}” along {path}: every link is supported.",
        "nb": "Funnene er forenlige med at {measure} bidrar til «{impact}» langs {path}: alle ledd er støttet.",
    },
    "broken": {
        "en": "The chain from activity to “{impact}” breaks at “{a}” → “{b}” ({rating}); the evidence does not support the contribution claim as the model states it.",
        "nb": "Kjeden fra aktivitet til «{impact}» brytes ved «{a}» → «{b}» ({rating}); funnene støtter ikke bidragspåstanden slik modellen formulerer den.",
    },
    "untested": {
        "en": "The evidence cannot yet tell whether {measure} contributes to “{impact}”: the link “{a}” → “{b}” is untested.",
        "nb": "Funnene kan ennå ikke si om {measure} bidrar til «{impact}»: leddet «{a}» → «{b}» er ikke testet.",
    },
    "mixed": {
        "en": "The evidence cannot yet tell whether {measure} contributes to “{impact}”: no pathway is supported (of {n}: {n_broken} with a weakened or refuted link, the first “{a}” → “{b}”; {n_open} with an untested link, the first “{c}” → “{d}”).",
        "nb": "Funnene kan ennå ikke si om {measure} bidrar til «{impact}»: ingen vei er støttet (av {n}: {n_broken} med et svekket eller motbevist ledd, det første «{a}» → «{b}»; {n_open} med et ikke testet ledd, det første «{c}» → «{d}»).",
    },
    "also_broken": {
        "en": "Pathways to “{impact}” with a weakened or refuted link: {n_broken} of {n} (the first “{a}” → “{b}”).",
        "nb": "Veier til «{impact}» med et svekket eller motbevist ledd: {n_broken} av {n} (det første «{a}» → «{b}»).",
    },
    "no_pathway": {
        "en": "The model has no pathway from an activity to an impact, so no contribution claim can be checked.",
        "nb": "Modellen har ingen vei fra en aktivitet til en virkning, så ingen bidragspåstand kan sjekkes.",
    },
    "increase": {"en": "increase", "nb": "økning"},
    "decrease": {"en": "decrease", "nb": "nedgang"},
}


def _t(key: str, lang: str, **values: str) -> str:
    return _T[key][lang].format(**values)


def _best_pathway(paths: Sequence[Pathway]) -> Pathway:
    """The strongest pathway (ties: the shortest, then the first in model order)."""
    return max(paths, key=lambda p: (RATING_ORDER.index(p.rating), -len(p.nodes)))


def _pathway_sentence(model: ModelView, path: Pathway, lang: str) -> str:
    title = {n.id: n.title[lang] for n in model.nodes}
    measure = model.title[lang]
    impact = title.get(path.nodes[-1], path.nodes[-1])
    if path.rating == "supported":
        chain = " → ".join(f"«{title.get(n, n)}»" if lang == "nb" else f"“{title.get(n, n)}”" for n in path.nodes)
        return _t("supported", lang, measure=measure, impact=impact, path=chain)
    a, b = path.weakest or (path.nodes[0], path.nodes[-1])
    key = "untested" if path.rating == "untested" else "broken"
    return _t(key, lang, measure=measure, impact=impact, a=title.get(a, a), b=title.get(b, b),
              rating=label(RATING_LABELS, path.rating, lang))


def contribution_story(
    model: ModelView,
    verdicts: Sequence[Verdict],
    analysis: ContributionAnalysis,
    delivery: str | None,
    lang: str = "en",
) -> list[str]:
    """Short sentences: delivery, each verdict, and the pathways.

    The last sentence is about the strongest pathway (its weakest link); before it, when
    some pathway is weakened or refuted, one sentence says where the chain breaks.

    ``delivery`` is a phrase already formatted with disclosure control applied (for example
    "412 participants in 2012-01–2014-12"), or ``None`` when nothing was observed.
    """
    measure = model.title[lang]
    sentences = [_t("delivered", lang, measure=measure, what=delivery) if delivery
                 else _t("not_delivered", lang, measure=measure)]
    title = {n.id: n.title[lang] for n in model.nodes}
    for verdict in verdicts:
        spec = verdict.change
        sentences.append(_t(
            "verdict", lang, direction=_T[spec.direction][lang], node=title.get(spec.node or "", spec.node or spec.id),
            outcome=spec.outcome or spec.indicator or "–", verdict=label(VERDICT_LABELS, verdict.kind.value, lang),
        ))
    if not analysis.pathways:
        sentences.append(_t("no_pathway", lang))
        return sentences
    sentences.append(_pathways_sentence(model, analysis.pathways, lang))
    return sentences


def _pathways_sentence(model: ModelView, paths: Sequence[Pathway], lang: str) -> str:
    """One conclusion over all pathways, consistent with the pathway table.

    The claim is judged on the strongest pathway; when it is supported but others break, the
    sentence says how many break and where the first does; when none is supported and some
    break while others are only untested, one sentence says both (never "breaks" in one
    sentence and "cannot yet tell" in the next)."""
    best = _best_pathway(paths)
    broken = [p for p in paths if p.rating in ("refuted", "weakened")]
    if not broken:
        return _pathway_sentence(model, best, lang)
    if best.rating in ("refuted", "weakened"):  # every pathway breaks: say where the worst does
        worst = min(paths, key=lambda p: (RATING_ORDER.index(p.rating), len(p.nodes)))
        return _pathway_sentence(model, worst, lang)
    title = {n.id: n.title[lang] for n in model.nodes}
    first = broken[0]
    a, b = first.weakest or (first.nodes[0], first.nodes[-1])
    impact = title.get(best.nodes[-1], best.nodes[-1])
    counts = {"n_broken": str(len(broken)), "n": str(len(paths)), "a": title.get(a, a), "b": title.get(b, b)}
    if best.rating == "supported":
        return _pathway_sentence(model, best, lang) + " " + _t("also_broken", lang, impact=impact, **counts)
    untested = [p for p in paths if p.rating == "untested"]
    c, d = untested[0].weakest or (untested[0].nodes[0], untested[0].nodes[-1])
    return _t("mixed", lang, measure=model.title[lang], impact=impact, n_open=str(len(untested)),
              c=title.get(c, c), d=title.get(d, d), **counts)


def headline_kind(verdicts: Sequence[Verdict]) -> str:
    """The most informative verdict of a model, for a one-word summary."""
    order = [VerdictKind.CONTRADICTED, VerdictKind.CONFIRMED, VerdictKind.NOT_CONFIRMED,
             VerdictKind.INCONCLUSIVE, VerdictKind.NOT_TESTABLE]
    kinds = {v.kind for v in verdicts}
    return next((k.value for k in order if k in kinds), VerdictKind.NOT_TESTABLE.value)
