"""The data dictionary's columns per extract, and how a file's header is mapped onto them
(the config's ``[extracts.<kind>.columns]`` first, then by case-insensitive name)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from shared.errors import ExtractError

if TYPE_CHECKING:
    from node_agent.read.report import ReadOptions

#: The data dictionary's columns per extract (what a config mapping may point at).
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "jeugdhulp": (
        "bsn",
        "geboortedatum",
        "toewijzingnummer",
        "productcategorie",
        "productcode",
        "aanbieder_agb",
        "aanbieder_naam",
        "verwijzer",
        "ingangsdatum",
        "einddatum",
        "reden_wijziging",
    ),
    "declaraties": ("toewijzingnummer", "periode_begin", "periode_einde", "bedrag_eurocent", "bedrag", "debet_credit"),
    "leerlingen": (
        "bsn",
        "geboortedatum",
        "peildatum",
        "vestigingscode",
        "brin",
        "vestigingsnummer",
        "onderwijssoort",
        "woongemeente",
        "buurtcode",
    ),
    # The SWV's support extract: one row per support (arrangement, TLV, LWOO/PrO, OPP, thuiszitter).
    "ondersteuning": ("bsn", "vestigingscode", "brin", "vestigingsnummer", "soort", "ingangsdatum", "einddatum"),
}

#: Required columns; a tuple inside means "one of these alternatives (all of its columns)".
REQUIRED: Mapping[str, tuple[Any, ...]] = {
    "jeugdhulp": ("bsn", "geboortedatum", "toewijzingnummer", "aanbieder_agb", "ingangsdatum"),
    "declaraties": ("toewijzingnummer", "periode_begin", (("bedrag_eurocent",), ("bedrag",))),
    "leerlingen": ("bsn", "geboortedatum", "peildatum", (("vestigingscode",), ("brin", "vestigingsnummer")), "woongemeente"),
    "ondersteuning": ("bsn", (("vestigingscode",), ("brin", "vestigingsnummer")), "soort", "ingangsdatum"),
}


def resolve_columns(
    header: list[str], opts: ReadOptions
) -> dict[str, str]:
    """Source column → dictionary name, from the config mapping then by (case-insensitive) name."""
    kind = opts.kind
    stripped = [h.strip() for h in header]
    by_lower: dict[str, str] = {}
    for h in stripped:
        by_lower.setdefault(h.lower(), h)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for src, target in opts.columns.items():
        actual = src if src in stripped else by_lower.get(src.strip().lower())
        if actual is not None and target not in taken:
            mapping[actual] = target
            taken.add(target)
    for name in COLUMNS[kind]:
        if name in taken:
            continue
        actual = by_lower.get(name)
        if actual is not None and actual not in mapping:
            mapping[actual] = name
            taken.add(name)
    missing: list[str] = []
    for req in REQUIRED[kind]:
        if isinstance(req, str):
            if req not in taken:
                missing.append(req)
        elif not any(all(c in taken for c in alt) for alt in req):
            missing.append(" of ".join(" + ".join(alt) for alt in req))
    if missing:
        column = missing[0]
        found = ", ".join(h for h in stripped if h) or "(geen)"
        # A header split into fewer fields than another separator would give: the configured one is wrong.
        if opts.delimiter != "auto" and len(opts.delimiter) == 1:
            line = opts.delimiter.join(header)
            fields = {d: len(line.split(d)) for d in (";", ",", "\t", "|") if d != opts.delimiter}
            better = max(fields, key=lambda d: fields[d])
            if fields[better] >= 2 * max(1, len(header)):
                names = {"\t": "tab"}
                in_toml = {"\t": "\\t"}.get(better, better)
                raise ExtractError(
                    f"{opts.path.name}: de kolommen zijn gescheiden door '{names.get(better, better)}', maar de "
                    f"configuratie zegt '{names.get(opts.delimiter, opts.delimiter)}' ({kind}). Zet in "
                    f"{opts.config_source} onder [extracts.{kind}] delimiter = \"{in_toml}\", of delimiter = \"auto\".",
                    code="wrong_delimiter",
                    details={"file": opts.path.name, "line": 1, "kind": kind, "delimiter": better},
                )
        raise ExtractError(
            f"{opts.path.name}: verplichte kolom '{column}' ontbreekt ({kind}). Gevonden kolommen: {found}. "
            f"Voeg de kolom toe aan de export, of koppel de bronkolom in {opts.config_source} onder "
            f"[extracts.{kind}.columns], bijvoorbeeld \"Naam_in_export\" = \"{column.split(' ')[0]}\".",
            code="missing_column",
            details={"file": opts.path.name, "column": column, "kind": kind},
        )
    return mapping
