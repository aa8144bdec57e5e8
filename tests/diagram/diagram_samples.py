"""Graphs for the diagram tests: a realistic 45-node return model and random layered graphs."""

from __future__ import annotations

import random

import networkx as nx

LEVELS = ("input", "activity", "output", "outcome", "impact")
HORIZONS = ("short", "medium", "long")
VERDICTS = ("confirmed", "not_confirmed", "inconclusive", "contradicted", "not_testable")
RATINGS = ("supported", "weakened", "refuted", "untested")

_NODES = [
    ("budsjett", "input", None, "Tilskudd fra UDI til returtiltak i ordinære mottak"),
    ("ansatte", "input", None, "Ansatte med opplæring i motiverende intervju (MI)"),
    ("lokaler", "input", None, "Lokaler og utstyr i mottaket"),
    ("iom", "input", None, "Samarbeid med IOM om assistert retur"),
    ("tolk", "input", None, "Tolketjenester"),
    ("rekruttering", "activity", None, "Rekruttering av utreisepliktige beboere til Veien Videre"),
    ("samtaler", "activity", None, "Strukturerte individuelle samtaler om situasjonen og retur"),
    ("mi", "activity", None, "Motiverende intervju om framtidsplaner"),
    ("kurs_lokal", "activity", None, "Lokale kvalifiseringskurs i mottaket"),
    ("kurs_nasjonal", "activity", None, "Nasjonale kvalifiseringskurs (sentralt drevet)"),
    ("informasjon", "activity", None, "Informasjon om assistert retur og reintegreringsstøtte"),
    ("aktivitet", "activity", None, "Fritids- og arbeidsaktiviteter"),
    ("helse", "activity", None, "Henvisning til helsetjenester ved behov"),
    ("nettverk", "activity", None, "Kontakt med nettverk og familie i hjemlandet"),
    ("oppfolging", "activity", None, "Oppfølging etter avsluttet forløp"),
    ("deltakere", "output", None, "Antall deltakere som starter"),
    ("gjennomforte", "output", None, "Gjennomførte samtaler per deltaker"),
    ("kursbevis", "output", None, "Fullførte kurs med kursbevis"),
    ("returplan", "output", None, "Skriftlig individuell returplan"),
    ("infomoter", "output", None, "Informasjonsmøter holdt"),
    ("timer", "output", None, "Timer i aktivitet per måned"),
    ("henvisninger", "output", None, "Henvisninger til helsetjenesten"),
    ("kontakt", "output", None, "Etablert kontakt med familie eller organisasjon i hjemlandet"),
    ("sluttsamtale", "output", None, "Avsluttende samtale gjennomført"),
    ("frammote", "output", None, "Oppmøte i prosent av planlagte samtaler"),
    ("kontroll", "outcome", "short", "Mer kontroll over eget liv"),
    ("kompetanse", "outcome", "short", "Økt kompetanse som kan brukes i hjemlandet"),
    ("bevissthet", "outcome", "short", "Bevissthet om egen status som utreisepliktig"),
    ("psykisk", "outcome", "short", "Bedre psykisk helse (lavere HSCL-10)"),
    ("aktiv", "outcome", "short", "Aktivitet i stedet for passivitet"),
    ("kunnskap", "outcome", "short", "Kunnskap om støtteordninger ved retur"),
    ("tillit", "outcome", "short", "Tillit til mottaksansatte"),
    ("mestring", "outcome", "short", "Opplevd mestring i hverdagen"),
    ("eneste", "outcome", "medium", "Retur sees som det eneste bærekraftige alternativet"),
    ("motivasjon", "outcome", "medium", "Motivasjon for retur"),
    ("informert", "outcome", "medium", "Informert valg om framtiden"),
    ("soknad", "outcome", "medium", "Søknad om assistert retur (IOM)"),
    ("planlegging", "outcome", "medium", "Konkret planlegging av livet etter retur"),
    ("forsvinning", "outcome", "medium", "Færre forsvinner til ukjent adresse"),
    ("frivillig", "outcome", "long", "Frivillig retur med assistanse"),
    ("kortere", "outcome", "long", "Kortere opphold i mottak etter endelig vedtak"),
    ("reintegrering", "outcome", "long", "Vellykket reintegrering i hjemlandet"),
    ("tvang", "outcome", "long", "Færre tvangsreturer"),
    ("samfunn", "impact", None, "Flere utreisepliktige returnerer frivillig og verdig"),
    ("kostnad", "impact", None, "Lavere samlede kostnader til mottak og tvangsretur"),
]

_LINKS = """budsjett>rekruttering budsjett>kurs_lokal budsjett>kurs_nasjonal ansatte>samtaler ansatte>mi
lokaler>kurs_lokal lokaler>aktivitet iom>informasjon iom>nettverk tolk>samtaler tolk>mi
rekruttering>samtaler rekruttering>deltakere samtaler>gjennomforte samtaler>returplan mi>returplan
mi>frammote kurs_lokal>kursbevis kurs_nasjonal>kursbevis informasjon>infomoter aktivitet>timer
helse>henvisninger nettverk>kontakt oppfolging>sluttsamtale samtaler>sluttsamtale
deltakere>kontroll gjennomforte>kontroll gjennomforte>bevissthet kursbevis>kompetanse
returplan>planlegging infomoter>kunnskap timer>aktiv henvisninger>psykisk kontakt>planlegging
frammote>tillit sluttsamtale>informert gjennomforte>psykisk timer>mestring
kontroll>mestring aktiv>psykisk bevissthet>eneste kunnskap>informert tillit>motivasjon
psykisk>motivasjon kompetanse>planlegging mestring>motivasjon eneste>motivasjon
motivasjon>soknad informert>soknad planlegging>reintegrering soknad>frivillig motivasjon>forsvinning
forsvinning>kortere frivillig>kortere frivillig>tvang frivillig>reintegrering
frivillig>samfunn reintegrering>samfunn kortere>kostnad tvang>kostnad kompetanse>reintegrering
kurs_nasjonal>kompetanse informasjon>kunnskap"""


def return_model(verdicts: bool = False, ratings: bool = False) -> nx.DiGraph:
    """A 45-node logic model of return measures, titles in Norwegian."""
    graph = nx.DiGraph(title="Returtiltak i ordinære mottak: Veien Videre og kvalifisering", id="returtiltak")
    for index, (key, level, horizon, title) in enumerate(_NODES):
        attrs = {"level": level, "title": title, "horizon": horizon}
        if verdicts and level in ("outcome", "impact"):
            attrs["verdict"] = VERDICTS[index % len(VERDICTS)]
        graph.add_node(key, **attrs)
    for index, pair in enumerate(_LINKS.split()):
        source, target = pair.split(">")
        attrs = {"mechanism": f"{source} fører til {target}", "lag_months": index % 7}
        if ratings:
            attrs["rating"] = RATINGS[index % len(RATINGS)]
        graph.add_edge(source, target, **attrs)
    return graph


_WORDS = ("retur", "motivasjon", "helse", "kompetanse", "kurs", "samtale", "mottak", "tillit",
          "økonomisk", "støtte", "hjemlandet", "åpenhet", "livssituasjon", "kvalifiseringsprogram")


def random_layered(n: int, seed: int, extra_edges: float = 1.4, skip: float = 0.25) -> nx.DiGraph:
    """A random graph with ``n`` nodes spread over all bands, mostly forward links."""
    rng = random.Random(seed)
    graph = nx.DiGraph(title=f"Tilfeldig modell {n}", id=f"random-{n}-{seed}")
    bands = [("input", None), ("activity", None), ("output", None), ("outcome", "short"),
             ("outcome", "medium"), ("outcome", "long"), ("impact", None)]
    rank = {}
    for i in range(n):
        b = min(len(bands) - 1, int(i * len(bands) / n))
        level, horizon = bands[b]
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 9)))
        graph.add_node(f"n{i}", level=level, horizon=horizon, title=f"{i}: {words}")
        rank[f"n{i}"] = b
    nodes = list(graph.nodes)
    for _ in range(int(n * extra_edges)):
        a = rng.choice(nodes)
        later = [v for v in nodes if rank[v] > rank[a] and (rank[v] == rank[a] + 1 or rng.random() < skip)]
        if later:
            graph.add_edge(a, rng.choice(later))
    return graph
