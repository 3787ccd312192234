"""Coarse groupings over the category lists: care intensity, referrer groups and school-phase age bands.

Each grouping maps every fine category of a measure to exactly one group (a hierarchy, never an
overlap). The node counts the group cells itself, as distinct children (docs/data-dictionary.md,
"Groupings"):

- ``clienten_zorgintensiteit``: distinct clients per care-intensity group over the client-counting
  care types. A child with care types in two groups counts in both, so a group lies between its
  largest care type and the sum of its care types (the auditor models both sides).
- the referrer groups and school-phase age bands are part of the table (a deployment can override
  them, and the hub sends them with every round), but no node counts cells for them yet: a new
  client has one starting allocation, so one referrer and one age band, and their groups would be
  exact sums of the fine ``nieuwe_clienten_verwijzer`` and ``nieuwe_clienten_leeftijd`` cells
  (docs/data-dictionary.md, "Groupings", says why they are not cells yet).

A group of a single category gets no cell of its own (``Grouping.counted_codes``): it would be a
second copy of that category's cell, which the pages show in its place.

:data:`DEFAULT_GROUPINGS` is the table a hub uses unless its deployment gives another
(``GROUPINGS_FILE``, a JSON object in the :meth:`Groupings.to_dict` form). The hub sends its table
to the nodes with every round (``RoundInfo.groupings``), so every node of a round counts the same
groups; a node without the round's table (``--offline``) uses the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from shared.codes import AGE_BANDS, CLIENT_ZORGTYPES, VERWIJZERS
from shared.errors import ConfigError

ZORGINTENSITEIT = "zorgintensiteit"
VERWIJZERGROEP = "verwijzergroep"
LEEFTIJDSFASE = "leeftijdsfase"
#: The fine category list each grouping is over.
FINE_CATEGORIES: Mapping[str, tuple[str, ...]] = {
    ZORGINTENSITEIT: CLIENT_ZORGTYPES,
    VERWIJZERGROEP: tuple(VERWIJZERS),
    LEEFTIJDSFASE: tuple(label for label, _, _ in AGE_BANDS),
}
MAX_GROUPS = 12
MAX_GROUP_CODE = 40
MAX_GROUP_LABEL = 80


@dataclass(frozen=True)
class Group:
    code: str  # the cell category: lower-case, digits and ``-``
    label: str  # shown in the Dutch interface
    members: tuple[str, ...]  # fine categories


@dataclass(frozen=True)
class Grouping:
    name: str
    groups: tuple[Group, ...]

    def group_of(self) -> dict[str, str]:
        """fine category → group code."""
        return {m: g.code for g in self.groups for m in g.members}

    def labels(self) -> dict[str, str]:
        return {g.code: g.label for g in self.groups}

    def codes(self) -> tuple[str, ...]:
        return tuple(g.code for g in self.groups)

    def counted_codes(self) -> tuple[str, ...]:
        """The groups that get cells of their own: a group of one category is that category's cell."""
        return tuple(g.code for g in self.groups if len(g.members) > 1)


@dataclass(frozen=True)
class Groupings:
    """The three groupings a round counts."""

    zorgintensiteit: Grouping
    verwijzergroep: Grouping
    leeftijdsfase: Grouping

    def by_name(self) -> dict[str, Grouping]:
        return {g.name: g for g in (self.zorgintensiteit, self.verwijzergroep, self.leeftijdsfase)}

    def to_dict(self) -> dict[str, Any]:
        return {
            name: [{"code": g.code, "label": g.label, "members": list(g.members)} for g in grouping.groups]
            for name, grouping in sorted(self.by_name().items())
        }

    @classmethod
    def from_dict(cls, d: Any) -> "Groupings":
        """Decode and check: every fine category in exactly one group, codes unique and bounded."""
        if not isinstance(d, dict) or set(d) != set(FINE_CATEGORIES):
            raise ConfigError(
                f"Een groepentabel noemt precies de groeperingen {', '.join(sorted(FINE_CATEGORIES))}",
                code="bad_groupings",
            )
        out = {}
        for name, fine in FINE_CATEGORIES.items():
            rows = d[name]
            if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_GROUPS:
                raise ConfigError(f"Groepering {name}: 1 tot {MAX_GROUPS} groepen", code="bad_groupings")
            groups, seen_codes, seen_members = [], set(), set()
            for i, row in enumerate(rows):
                where = f"groepering {name}, groep {i + 1}"
                if not isinstance(row, dict) or set(row) != {"code", "label", "members"}:
                    raise ConfigError(f"{where}: velden code, label en members", code="bad_groupings")
                code, label, members = row["code"], row["label"], row["members"]
                if not (isinstance(code, str) and 0 < len(code) <= MAX_GROUP_CODE
                        and all(ch.isdigit() or ("a" <= ch <= "z") or ch in "-+" for ch in code)):
                    raise ConfigError(f"{where}: code van kleine letters, cijfers, - of +", code="bad_groupings")
                if not (isinstance(label, str) and 0 < len(label) <= MAX_GROUP_LABEL and label.isprintable()):
                    raise ConfigError(f"{where}: label van 1 tot {MAX_GROUP_LABEL} tekens", code="bad_groupings")
                if code in seen_codes:
                    raise ConfigError(f"{where}: code {code} komt twee keer voor", code="bad_groupings")
                if not isinstance(members, list) or not members:
                    raise ConfigError(f"{where}: minstens één categorie", code="bad_groupings")
                for m in members:
                    if m not in fine:
                        raise ConfigError(f"{where}: onbekende categorie {m!r}; kies uit {', '.join(fine)}",
                                          code="bad_groupings")
                    if m in seen_members:
                        raise ConfigError(f"{where}: categorie {m} staat al in een andere groep", code="bad_groupings")
                    seen_members.add(m)
                seen_codes.add(code)
                groups.append(Group(code, label, tuple(members)))
            missing = [m for m in fine if m not in seen_members]
            if missing:
                raise ConfigError(f"Groepering {name}: categorie {', '.join(missing)} staat in geen groep",
                                  code="bad_groupings")
            out[name] = Grouping(name, tuple(groups))
        return cls(out[ZORGINTENSITEIT], out[VERWIJZERGROEP], out[LEEFTIJDSFASE])


DEFAULT_GROUPINGS = Groupings(
    zorgintensiteit=Grouping(ZORGINTENSITEIT, (
        Group("basis", "Basis, ambulant en overig",
              ("wijkteam", "ambulant", "persoonlijke-verzorging", "maatwerk", "onbekend")),
        Group("specialistisch", "Specialistisch (jeugd-ggz, daghulp)", ("jeugd-ggz", "daghulp", "kindergeneeskunde")),
        Group("verblijf-crisis", "Verblijf en crisis", ("verblijf", "crisis")),
    )),
    verwijzergroep=Grouping(VERWIJZERGROEP, (
        Group("gemeente", "Gemeentelijke toegang", ("01",)),
        Group("medisch", "Huisarts, jeugdarts en medisch specialist", ("02", "03", "05")),
        Group("justitie", "Gecertificeerde instelling en rechter", ("04", "08")),
        Group("overig", "Zelf, overig en onbekend", ("06", "onbekend")),
    )),
    leeftijdsfase=Grouping(LEEFTIJDSFASE, (
        Group("0-8", "0 tot en met 8 jaar", ("0-3", "4-5", "6-8")),
        Group("9-11", "9 tot en met 11 jaar", ("9-11",)),
        Group("12-14", "12 tot en met 14 jaar", ("12-14",)),
        Group("15+", "15 jaar en ouder", ("15-17", "18+")),
    )),
)
