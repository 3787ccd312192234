"""Fictional youth-care providers for synthetic data: realistic names, 8-digit AGB codes, what they offer, their size.

The names sound like Dutch providers but are invented, so synthetic figures never appear to describe a real
organisation. ``size`` is a relative weight: a few large providers take most clients, many small practices the rest.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    agb: str
    naam: str
    categorieen: tuple[str, ...]  # JZ020 productcategorie (plus "dyslexie") this provider is allocated
    size: float


PROVIDERS: tuple[Provider, ...] = (
    # large regional providers
    Provider("98060412", "Lekstroom Jeugd & Gezin", ("45", "32", "41", "40", "55", ""), 9.0),
    Provider("98071233", "Kwadrant Jeugdzorg Midden", ("45", "41", "43", "46", "55"), 7.0),
    Provider("98060927", "De Rivierenlanden Jeugd-GGZ", ("54", "46", "53"), 8.0),
    Provider("98114406", "Kennemer Kind & Jeugd", ("45", "32", "54", "41", "43", ""), 8.0),
    Provider("98022871", "Horizonburg Jeugdhulp", ("43", "41", "46", "55"), 4.0),
    # wijkteams (the municipality's own access teams)
    Provider("98000131", "Stichting Sociaal Wijkteam", ("31",), 10.0),
    Provider("98000158", "Buurtteam Jeugd en Gezin", ("31",), 6.0),
    # mid-sized
    Provider("98103325", "Praktijk Zonnewijzer Jeugd", ("45", "32"), 3.0),
    Provider("98089217", "Jeugdpsychologen Vaartsche Rijn", ("54",), 3.5),
    Provider("98095548", "GGZ Kind & Jeugd Het Baken", ("54",), 3.0),
    Provider("98112960", "Orthopedagogisch Centrum De Linde", ("45", "41"), 2.5),
    Provider("98076655", "Dagbehandeling De Wilgenhoeve", ("41",), 2.5),
    Provider("98118024", "Zorgboerderij De Hooiberg", ("41", "55"), 1.5),
    Provider("98064480", "Thuiszorg Kind Aan Huis", ("40",), 2.0),
    Provider("98057301", "Kinderthuiszorg Duinstreek", ("40",), 1.5),
    Provider("98121738", "Pleegzorg en Gezinshuizen Midden", ("43",), 1.5),
    Provider("98085516", "Kinderdagcentrum Het Duintje", ("41", "53"), 1.2),
    Provider("98067729", "Jeugd-GGZ Spaarne Kind", ("54",), 2.5),
    Provider("98092414", "Systeemtherapie Coördinaat Oostrand", ("45", "54"), 1.5),
    # dyslexia specialists
    Provider("98101102", "Dyslexiecentrum Lekkerkerk-Haven", ("dyslexie",), 3.0),
    Provider("98110973", "Leerpraktijk Letterwijs", ("dyslexie",), 2.0),
    Provider("98098862", "Instituut Lezen & Spellen", ("dyslexie",), 2.5),
    # small practices
    Provider("98130447", "Kinderpraktijk Ruimte & Rêve", ("45", "32"), 0.8),
    Provider("98131095", "Praktijk Speelruimte", ("45",), 0.6),
    Provider("98128356", "Jeugdcoach Bruggenbouwers", ("45", "55"), 0.5),
    Provider("98133760", "Psychologenpraktijk Noordwijk-Binnen", ("54",), 0.7),
    Provider("98126123", "Praktijk voor Speltherapie Klein Geluk", ("54", "45"), 0.6),
    Provider("98135082", "Autismecoach Structuur", ("45", "41"), 0.6),
    Provider("98127494", "Kinder- en Jeugdpsychiatrie Praktijk Rijnoever", ("54", "53"), 0.5),
    Provider("98136615", "Ambulante Gezinsbegeleiding Samen Sterk", ("45", "32"), 0.7),
    # transport and justice
    Provider("98140027", "Leerlingenvervoer Zorgtaxi Midden", ("42",), 1.0),
    Provider("98150018", "Gecertificeerde Instelling Jeugdbescherming Regio West", ("48", "47"), 2.0),
    Provider("98150115", "Stichting Jeugdreclassering en Voogdij", ("48", "47"), 1.0),
)
