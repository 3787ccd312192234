"""What became of every row: the reasons a row is rejected or excluded, the per-file report that
accounts for each row, the validated extract it comes with, and the options a file is read with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from node_agent.columnar import Distinct
from shared.codes import ONDERSTEUNINGSSOORTEN, ONDERWIJSSOORTEN
from shared.partial import FileQuality

#: Every reason a row can be rejected or excluded: code → (column, Dutch message). Stable codes.
REASONS: Mapping[str, tuple[str, str]] = {
    "kolommen_aantal": ("", "regel heeft meer velden dan de kopregel (vaak een scheidingsteken in een waarde)"),
    "lege_regel": ("", "lege regel"),
    "bsn_missing": ("bsn", "BSN ontbreekt"),
    "bsn_format": ("bsn", "BSN bevat andere tekens dan cijfers of heeft meer dan 9 cijfers"),
    "bsn_placeholder": ("bsn", "BSN is een opvulwaarde (000000000 of 999999999)"),
    "bsn_elfproef": ("bsn", "BSN voldoet niet aan de elfproef"),
    "bsn_test_range": ("bsn", "BSN ligt in de gereserveerde testreeks (testdata is niet toegestaan)"),
    "geboortedatum_ontbreekt": ("geboortedatum", "geboortedatum ontbreekt"),
    "geboortedatum_ongeldig": ("geboortedatum", "geboortedatum is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "toewijzingnummer_ontbreekt": ("toewijzingnummer", "toewijzingnummer ontbreekt"),
    "toewijzingnummer_dubbel": ("toewijzingnummer", "toewijzingnummer komt eerder in het bestand voor (alleen de eerste telt)"),
    "productcategorie_onbekend": ("productcategorie", "productcategorie staat niet in JZ020 (31–38, 40–55) of de zorgtype-tabel"),
    "productcode_te_lang": ("productcode", "productcode is langer dan 5 tekens"),
    "aanbieder_agb_ontbreekt": ("aanbieder_agb", "AGB-code van de aanbieder ontbreekt"),
    "aanbieder_agb_ongeldig": ("aanbieder_agb", "AGB-code van de aanbieder is geen 8 cijfers"),
    "verwijzer_onbekend": ("verwijzer", "verwijzer is geen code uit COD327 (01–06, 08) en niet leeg"),
    "ingangsdatum_ontbreekt": ("ingangsdatum", "ingangsdatum ontbreekt"),
    "ingangsdatum_ongeldig": ("ingangsdatum", "ingangsdatum is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "einddatum_ongeldig": ("einddatum", "einddatum is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "einddatum_voor_ingangsdatum": ("einddatum", "einddatum ligt voor de ingangsdatum"),
    "ingangsdatum_voor_geboorte": ("ingangsdatum", "ingangsdatum ligt voor de geboortedatum"),
    "reden_wijziging_13": ("reden_wijziging", "toewijzing is verwijderd (reden_wijziging 13) en heeft nooit bestaan"),
    "toewijzing_onbekend": ("toewijzingnummer", "declaratieregel hoort bij geen enkele toewijzing"),
    "toewijzing_afgekeurd": ("toewijzingnummer", "declaratieregel hoort bij een afgekeurde toewijzing"),
    "toewijzing_verwijderd": ("toewijzingnummer", "declaratieregel hoort bij een verwijderde toewijzing (reden_wijziging 13)"),
    "periode_begin_ontbreekt": ("periode_begin", "periode_begin ontbreekt"),
    "periode_begin_ongeldig": ("periode_begin", "periode_begin is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "periode_einde_ongeldig": ("periode_einde", "periode_einde is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "periode_einde_voor_begin": ("periode_einde", "periode_einde ligt voor periode_begin"),
    "bedrag_ontbreekt": ("bedrag_eurocent", "bedrag ontbreekt"),
    "bedrag_ongeldig": (
        "bedrag_eurocent",
        "bedrag is geen geheel aantal eurocent (bedrag_eurocent) of geen bedrag in euro met hoogstens 2 decimalen (bedrag)",
    ),
    "debet_credit_ongeldig": ("debet_credit", "debet_credit is niet D of C"),
    "peildatum_ontbreekt": ("peildatum", "peildatum ontbreekt"),
    "peildatum_ongeldig": ("peildatum", "peildatum is geen geldige datum (JJJJ-MM-DD of DD-MM-JJJJ)"),
    "peildatum_afwijkend": ("peildatum", "peildatum wijkt af van de peildatum die voor dit schooljaar in het bestand staat"),
    "vestigingscode_ongeldig": ("vestigingscode", "vestigingscode is geen BRIN + 2 cijfers (bijv. 04DA00)"),
    "brin_ongeldig": ("brin", "brin ontbreekt of is geen 2 cijfers + 2 hoofdletters (bijv. 04DA)"),
    "vestigingsnummer_ongeldig": ("vestigingsnummer", "vestigingsnummer ontbreekt of is geen getal van 0 tot 99"),
    "onderwijssoort_onbekend": ("onderwijssoort", f"onderwijssoort is niet een van {', '.join(ONDERWIJSSOORTEN)}"),
    "woongemeente_ontbreekt": ("woongemeente", "woongemeente ontbreekt"),
    "woongemeente_ongeldig": ("woongemeente", "woongemeente is geen gemeentecode van 4 cijfers"),
    "andere_woongemeente": ("woongemeente", "leerling woont in een andere gemeente (die gemeente levert deze leerling zelf aan)"),
    "buurtcode_ongeldig": ("buurtcode", "buurtcode is niet BU + 8 cijfers"),
    "leerling_dubbel": ("bsn", "leerling staat in dit schooljaar al eerder in het bestand (alleen de eerste telt)"),
    "soort_ontbreekt": ("soort", "soort ondersteuning ontbreekt"),
    "soort_onbekend": ("soort", f"soort ondersteuning is niet een van {', '.join(s.slug for s in ONDERSTEUNINGSSOORTEN)}"),
    "zonder_vestiging": ("vestigingscode", "geen school (vestigingscode leeg): de cijfers gaan per school, deze regel telt niet mee"),
    "vestiging_buiten_swv": ("vestigingscode", "vestiging hoort volgens de hub niet bij dit samenwerkingsverband (het telt alleen zijn eigen scholen)"),
}
EXCLUSION_RULES = frozenset({"lege_regel", "reden_wijziging_13", "toewijzing_verwijderd", "zonder_vestiging",
                             "vestiging_buiten_swv"})
_REASON_CODES = tuple(REASONS)
_REASON_INDEX = {code: i + 1 for i, code in enumerate(_REASON_CODES)}  # 0 = row is fine


@dataclass
class RowIssues:
    """All rows of one file with one reason: the lines (as in the file) and the rule's wording."""

    reason: str
    lines: list[np.ndarray] = field(default_factory=list)

    @property
    def column(self) -> str:
        return REASONS[self.reason][0]

    @property
    def message(self) -> str:
        return REASONS[self.reason][1]

    @property
    def count(self) -> int:
        return int(sum(len(a) for a in self.lines))

    def all_lines(self) -> np.ndarray:
        return np.sort(np.concatenate(self.lines)) if self.lines else np.empty(0, np.int64)


@dataclass
class FileReport:
    """How one extract was read and what became of every row."""

    kind: str
    name: str
    format: str = ""
    encoding: str = ""
    delimiter: str = ""
    rows_read: int = 0
    rows_used: int = 0
    rejected: dict[str, RowIssues] = field(default_factory=dict)
    excluded: dict[str, RowIssues] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Lines with fewer fields than the header, read with the missing ones empty (Excel leaves out empty
    # fields at the end of a line): how many, the first few as (line, its number of fields), and the
    # header's number of fields.
    short_count: int = 0
    short_examples: list[tuple[int, int]] = field(default_factory=list)
    header_fields: int = 0

    @classmethod
    def for_options(cls, opts: ReadOptions) -> FileReport:
        """An empty report for the file ``opts`` reads."""
        return cls(kind=opts.kind, name=opts.path.name)

    @property
    def rows_rejected(self) -> int:
        return sum(r.count for r in self.rejected.values())

    @property
    def rows_excluded(self) -> int:
        return sum(r.count for r in self.excluded.values())

    def add(self, reason: str, lines: np.ndarray) -> None:
        if len(lines) == 0:
            return
        target = self.excluded if reason in EXCLUSION_RULES else self.rejected
        target.setdefault(reason, RowIssues(reason)).lines.append(np.asarray(lines, dtype=np.int64))

    def add_short(self, lines: np.ndarray, fields: np.ndarray, header_fields: int, examples: int = 5) -> None:
        self.short_count += len(lines)
        first = np.argsort(lines, kind="stable")[:examples]
        found = [(int(n), int(k)) for n, k in zip(np.asarray(lines)[first], np.asarray(fields)[first])]
        self.short_examples = sorted(self.short_examples + found)[:examples]
        self.header_fields = header_fields

    def short_note(self) -> str | None:
        """The note that tells the short lines, with their field counts; None when there are none."""
        if not self.short_count:
            return None
        shown = ", ".join(f"regel {n} ({_fields(k)})" for n, k in self.short_examples)
        rest = self.short_count - len(self.short_examples)
        more = f" en {rest} andere" if rest else ""
        return (f"{self.short_count} regel(s) hebben minder velden dan de kopregel ({_fields(self.header_fields)}): "
                f"{shown}{more}. De ontbrekende velden aan het eind zijn als leeg gelezen, zoals Excel ze weglaat; "
                "ontbreekt daardoor een verplicht veld, dan staat de regel bij de afgekeurde regels, onder de "
                "controle van dat veld.")

    def check_balance(self) -> None:
        """read = used + rejected + excluded; a failure here is a bug, never a user's mistake."""
        if self.rows_read != self.rows_used + self.rows_rejected + self.rows_excluded:
            raise AssertionError(
                f"accounting broken for {self.name}: read {self.rows_read} != used {self.rows_used} + "
                f"rejected {self.rows_rejected} + excluded {self.rows_excluded}"
            )

    def to_quality(self) -> FileQuality:
        return FileQuality(
            name=self.name,
            kind=self.kind,
            rows_read=self.rows_read,
            rows_used=self.rows_used,
            rejected={k: v.count for k, v in self.rejected.items()},
            excluded={k: v.count for k, v in self.excluded.items()},
        )

    def to_dict(self, max_lines: int | None = 1000) -> dict[str, Any]:
        def issues(d: dict[str, RowIssues]) -> list[dict[str, Any]]:
            out = []
            for code in sorted(d):
                lines = d[code].all_lines()
                out.append(
                    {
                        "reason": code,
                        "column": d[code].column,
                        "message": d[code].message,
                        "rows": int(len(lines)),
                        "lines": [int(x) for x in (lines if max_lines is None else lines[:max_lines])],
                    }
                )
            return out

        return {
            "kind": self.kind,
            "name": self.name,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_rejected": self.rows_rejected,
            "rows_excluded": self.rows_excluded,
            "rejected": issues(self.rejected),
            "excluded": issues(self.excluded),
            "notes": list(self.notes) + ([self.short_note()] if self.short_count else []),
        }


def _fields(n: int) -> str:
    return f"{n} veld" if n == 1 else f"{n} velden"


@dataclass
class Extract:
    """A validated extract: the used rows (compact types, BSN replaced by pseudonym) and its report."""

    kind: str
    data: pd.DataFrame
    report: FileReport
    #: jeugdhulp only: toewijzingnummers of excluded / rejected rows, so claim lines on them are
    #: classified instead of being called unknown.
    excluded_numbers: pd.Index | None = None
    rejected_numbers: pd.Index | None = None


@dataclass(frozen=True)
class ReadOptions:
    """How to read one file (from the config's ``[extracts.<kind>]``)."""

    path: Path
    kind: str
    format: str = "auto"
    delimiter: str = "auto"
    encoding: str = "auto"
    sheet: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)
    config_source: str = "de configuratie"


class Flags:
    """First failing rule per row wins, in the order the checks run."""

    def __init__(self, n: int):
        self.code = np.zeros(n, dtype=np.int16)

    def flag(self, mask: np.ndarray, reason: str) -> None:
        if mask.any():
            self.code[(self.code == 0) & mask] = _REASON_INDEX[reason]

    def flag_values(self, column: Distinct, per_value: np.ndarray, reason: str) -> None:
        """``flag`` for a check made once per distinct value of ``column``."""
        if per_value.any():
            self.flag(column.spread(per_value), reason)

    def flag_value_codes(self, column: Distinct, reasons: np.ndarray) -> None:
        """``flag_codes`` for reason codes found once per distinct value of ``column``."""
        set_ = reasons != ""
        if set_.any():
            for r in pd.unique(reasons[set_]):
                self.flag_values(column, reasons == r, r)

    def flag_codes(self, reasons: np.ndarray) -> None:
        set_ = reasons != ""
        if set_.any():
            for r in pd.unique(reasons[set_]):
                self.flag(reasons == r, r)

    @property
    def ok(self) -> np.ndarray:
        return self.code == 0

    def selection(self) -> np.ndarray | slice:
        """The rows that passed, as an index: ``ok``, or a slice of all rows when every row passed
        (selecting with it takes a view, not a copy)."""
        ok = self.ok
        return slice(None) if ok.all() else ok

    def failed(self, reason: str) -> np.ndarray:
        """The rows whose first failing rule is ``reason``."""
        return self.code == _REASON_INDEX[reason]

    def report_into(self, report: FileReport, lines: np.ndarray) -> None:
        for idx in np.unique(self.code):
            if idx:
                report.add(_REASON_CODES[idx - 1], lines[self.code == idx])
