"""The Dutch pages: login, landing per role, region overview, factsheets (HTML/PDF/ZIP), SWV, coverage,
admin pages, and CSV/XLSX exports of every table shown. Thin: services compute, templates render.
"""

from __future__ import annotations

import secrets

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, logout_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from hub import cache
from hub.guards import int_field
from hub.services import audit
from hub.services import indicators as svc
from hub.web import charts, exports
from hub.web.auth import end_session, start_session
from hub.throttle import login_email
from hub.web.blueprint import EXPORT_TYPES, bp, safe_next
from hub.web.blueprint import download as _download
from hub.web.factsheet import factsheet_html, factsheet_parts, html_to_pdf, threshold
from hub.web.mfa_views import begin_second_factor
from hub.access import ADMIN, ALL_ROLES, COVERAGE_ROLES, FACTSHEET_ROLES, REGION_ROLES, page_roles
from shared.errors import InputError, JeugdhubError




def _export(tables, stem: str, fmt: str, target: str, schooljaar: str | None = None) -> Response:
    if fmt not in EXPORT_TYPES:
        abort(404)
    source = bron_line(schooljaar)
    body = exports.to_csv(tables, source) if fmt == "csv" else exports.to_xlsx(tables, source)
    audit.record(g.access.user_id, "export", target, fmt)
    return _download(body, f"{stem}.{fmt}", EXPORT_TYPES[fmt])


# --- login ---------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    from hub.services import users

    error = None
    if request.method == "POST":
        email = login_email()
        user = users.authenticate(email, request.form.get("wachtwoord", ""))
        if user is None:
            audit.record(None, "login_failed", "login", result="failed", actor=email or "(leeg)")
            error = "Onbekend e-mailadres of verkeerd wachtwoord."
        else:
            from hub.services import mfa

            if mfa.enrolled(user) or mfa.required(user):
                return begin_second_factor(user, safe_next(request.args.get("next")))
            start_session(user)
            audit.record(user.id, "login", "login", actor=user.email)
            return redirect(safe_next(request.args.get("next")) or url_for("web.home"))
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    from hub.services import users

    if current_user.is_authenticated:
        audit.record(current_user.id, "logout", "logout", actor=current_user.email)
        users.revoke_sessions(current_user.id)  # the cookie, copied or not, opens nothing any more
    logout_user()
    end_session()
    flash("U bent uitgelogd.")
    return redirect(url_for("web.login"))


@bp.get("/")
@page_roles(*ALL_ROLES)
def home():
    """Landing page per role."""
    role, scope = g.access.role, g.access.scope
    if role == "school":
        return redirect(url_for("web.factsheet", vestigingscode=scope))
    if role == "swv":
        return redirect(url_for("web.swv", code=scope))
    if role == "consortium":
        return redirect(url_for("web.coverage"))
    if role == "gemeente":
        return redirect(url_for("web.overview", gemeente=scope))
    return redirect(url_for("web.overview"))


# --- region overview -----------------------------------------------------------------------------


def _overview_context(data, swv: str | None = None):
    sort = request.args.get("sort", "naam")
    desc = sort.startswith("-")
    view = svc.overview(data, g.access, request.args.get("schooljaar") or None, request.args.get("gemeente") or None,
                        request.args.get("schooltype") or None, swv, sort.lstrip("-"), desc,
                        zoek=request.args.get("zoek") or None)
    return view, sort


#: Overview column → sort key: clicking "Verschil" ranks by how clearly a school changed (z-score).
COLUMN_SORTS = {"naam": "naam", "schooltype": "schooltype", "gemeente": "gemeente", "leerlingen": "leerlingen",
                "per_100": "clienten_per_100", "verschil": "stijging", "dekking": "dekking"}


def _sorting(sort: str) -> dict:
    """Sortable column headers: each is a link to this page with the other parameters kept."""
    args = {k: v for k, v in request.args.items() if k != "sort"}
    return {"current": sort, "columns": COLUMN_SORTS,
            "url": lambda s: url_for(request.endpoint, **(request.view_args or {}), **args, sort=s)}


def _selection(data, view, swv_locked: bool) -> dict:
    """What the KPI cards and the caption say about the schools the search and filters selected.

    Only published cells are shown: the region's or, when the only filter is a school type, that type's
    rate. A selection's own total is never summed from its schools (hidden schools would then be
    recoverable as the difference), so for any other selection the region figure stays, labelled as a
    comparison.
    """
    from hub.web.exports import COVERAGE_LOW

    f, rows = view["filters"], view["scholen"]
    gemeenten = dict(_filter_options(data, view["schooljaar"])[0])
    parts = []
    if f["gemeente"]:
        parts.append(f"gemeente {gemeenten.get(f['gemeente'], f['gemeente'])}")
    if f["schooltype"]:
        parts.append(f"type {f['schooltype']}")
    if f["swv"]:
        parts.append(data.swv_names.get(f["swv"].upper(), f["swv"].upper()))
    if view["zoek"]:
        parts.append(f"zoekterm ‘{view['zoek']}’")
    only_type = f["schooltype"] and not (f["gemeente"] or f["swv"] or view["zoek"])
    whole = not parts
    if only_type:
        rate = svc.region(data, view["schooljaar"])["schooltypes"].get(f["schooltype"])
        rate_label = f"Cliënten per 100 leerlingen (alle {f['schooltype']}-scholen)"
    else:
        rate = svc.region(data, view["schooljaar"])["regio"]
        rate_label = "Cliënten per 100 leerlingen (regio)" if whole else "Ter vergelijking: hele regio, cliënten per 100"
    n = len(rows)
    caption = (f"{n} {'school' if n == 1 else 'scholen'}" + (f" · {' · '.join(parts)}" if parts else " in de regio")
               + f", schooljaar {view['schooljaar']}")
    return {
        "whole": whole,
        "parts": parts,
        "rate": rate,
        "rate_label": rate_label,
        "count": n,
        "published": sum(1 for r in rows if r.rate.published),
        "low_coverage": sum(1 for r in rows if r.coverage.share is not None and r.coverage.share < COVERAGE_LOW),
        "caption": caption,
    }


def _filter_options(data, schooljaar: str):
    rows = data.rows(schooljaar)
    gemeenten = sorted({(r.gemeentecode, r.gemeentenaam or r.gemeentecode) for r in rows if r.gemeentecode}, key=lambda x: x[1])
    types = sorted({r.schooltype for r in rows})
    return gemeenten, types


def _type_trend_chart(data) -> tuple[str, exports.Table]:
    trends = svc.type_trends(data)
    series = {t: [(p.schooljaar, p.rate.per_100, p.rate.low, p.rate.high) for p in pts] for t, pts in trends.items()}
    svg = charts.responsive(charts.trend_chart, series, "Cliënten per 100 leerlingen per schooltype")
    return svg, exports.trend_table("trend-schooltypes", "Cliënten per 100 leerlingen per schooltype", trends,
                                    sheet="Trend per schooltype")


@bp.get("/overzicht")
@page_roles(*REGION_ROLES)
def overview():
    data = svc.load()
    if not data.releases:
        return render_template("empty.html"), 200
    # The contents depend on the publication, the scope and the address (filters, sorting, the links
    # that keep them); hub/cache.py keeps them per those. The form token is the session's: a hole.
    args = (request.script_root, request.path, tuple(request.args.items(multi=True)))
    schooljaar, body = cache.view("overview page", data, g.access, args, lambda: _overview_body(data))
    audit.record(g.access.user_id, "view", f"overzicht {schooljaar}", "html")
    return render_template("page.html", title=f"Overzicht scholen {schooljaar}", bodyclass="overview",
                           body=Markup(body.replace(CSRF_HOLE, generate_csrf())))


#: Stands in for the session's form token in cached contents (filled in per request); random, so no
#: text from the data can be mistaken for it.
CSRF_HOLE = f"csrf-{secrets.token_hex(16)}"


def _overview_body(data) -> tuple[str, str]:
    """The overview's (school year, contents) for ``g.access`` and this request's arguments."""
    swv = g.access.scope if g.access.role == "swv" else (request.args.get("swv") or None)
    view, sort = _overview_context(data, swv)
    table = exports.overview_table(view["scholen"], view["schooljaar"],
                                   lambda c: url_for("web.factsheet", vestigingscode=c, schooljaar=view["schooljaar"]),
                                   data.swv_names)
    chart, trend_table = _type_trend_chart(data)
    gemeenten, types = _filter_options(data, view["schooljaar"])
    reg = svc.region(data, view["schooljaar"])
    selection = _selection(data, view, g.access.role == "swv")
    body = render_template("overview_body.html", view=view, table=table, chart=chart, trend_table=trend_table,
                           sort=sort, selection=selection, sorting=_sorting(sort),
                           gemeenten=gemeenten, types=types, schooljaren=data.schooljaren, reg=reg,
                           swv_names={c: n for c, n in data.swv_names.items() if c in svc.swvs_in_region(data)},
                           swv_locked=g.access.role == "swv",
                           export_args={k: v for k, v in request.args.items()},
                           csrf_token=lambda: CSRF_HOLE)
    return view["schooljaar"], body


@bp.get("/overzicht.<fmt>")
@page_roles(*REGION_ROLES)
def overview_export(fmt: str):
    data = svc.load()
    swv = g.access.scope if g.access.role == "swv" else (request.args.get("swv") or None)
    view, _ = _overview_context(data, swv)
    _, trend_table = _type_trend_chart(data)
    table = exports.overview_table(view["scholen"], view["schooljaar"], swv_names=data.swv_names)
    return _export([table, trend_table], f"jeugdhulp-scholen-{view['schooljaar']}", fmt, f"overzicht {view['schooljaar']}",
                   view["schooljaar"])


# --- factsheet -----------------------------------------------------------------------------------


def _comparison(data) -> tuple[list[str], str, exports.Table | None]:
    """The schools asked for (``?school=`` up to four times) and their figures; 400/403/404 as a page would."""
    codes = list(dict.fromkeys(c.strip().upper() for c in request.args.getlist("school") if c.strip()))
    if len(codes) > exports.COMPARE_MAX:
        raise InputError(f"Kies hoogstens {exports.COMPARE_MAX} scholen om te vergelijken", code="invalid_input")
    schooljaar = data.require_schooljaar(request.args.get("schooljaar") or None)
    sheets = [factsheet_parts(data, code, schooljaar)[0] for code in codes]
    return codes, schooljaar, (exports.comparison_table(sheets, schooljaar) if sheets else None)


@bp.get("/vergelijk")
@page_roles(*REGION_ROLES)
def compare():
    data = svc.load()
    if not data.releases:
        return render_template("empty.html"), 200
    codes, schooljaar, table = _comparison(data)
    choices = [(r.vestigingscode, r.naam) for r in svc.overview(data, g.access, schooljaar)["scholen"]]
    if codes:
        audit.record(g.access.user_id, "view", f"vergelijking {' '.join(codes)} {schooljaar}", "html")
    return render_template("compare.html", table=table, codes=codes, choices=choices, schooljaar=schooljaar,
                           schooljaren=data.schooljaren, max_schools=exports.COMPARE_MAX,
                           export_args={"school": codes, "schooljaar": schooljaar})


@bp.get("/vergelijk.<fmt>")
@page_roles(*REGION_ROLES)
def compare_export(fmt: str):
    data = svc.load()
    if not data.releases:
        abort(404)
    codes, schooljaar, table = _comparison(data)
    if table is None:
        abort(404)
    return _export([table], f"vergelijking-{schooljaar}", fmt, f"vergelijking {' '.join(codes)}", schooljaar)


@bp.get("/scholen/<vestigingscode>")
@page_roles(*FACTSHEET_ROLES)
def factsheet(vestigingscode: str):
    data = svc.load()
    if not data.releases:
        return render_template("empty.html"), 200
    html = factsheet_html(data, vestigingscode, request.args.get("schooljaar") or None)
    audit.record(g.access.user_id, "view", f"factsheet {vestigingscode.upper()}", "html")
    return html


@bp.get("/scholen/<vestigingscode>/factsheet.pdf")
@page_roles(*FACTSHEET_ROLES)
def factsheet_pdf(vestigingscode: str):
    data = svc.load()
    schooljaar = data.require_schooljaar(request.args.get("schooljaar") or None) if data.releases else abort(404)
    html = factsheet_html(data, vestigingscode, schooljaar, for_pdf=True)
    pdf = html_to_pdf(html, request.host_url)
    audit.record(g.access.user_id, "export", f"factsheet {vestigingscode.upper()} {schooljaar}", "pdf")
    return _download(pdf, f"factsheet-{vestigingscode.upper()}-{schooljaar}.pdf", "application/pdf")


@bp.get("/scholen/<vestigingscode>/factsheet.<fmt>")
@page_roles(*FACTSHEET_ROLES)
def factsheet_export(vestigingscode: str, fmt: str):
    data = svc.load()
    sheet, tables = factsheet_parts(data, vestigingscode, request.args.get("schooljaar") or None)
    return _export(list(tables.values()), f"factsheet-{vestigingscode.upper()}-{sheet['schooljaar']}", fmt,
                   f"factsheet {vestigingscode.upper()} {sheet['schooljaar']}", sheet["schooljaar"])


# --- SWV -----------------------------------------------------------------------------------------


@bp.get("/swv")
@page_roles(*REGION_ROLES)
def swv_list():
    data = svc.load()
    if g.access.role == "swv":
        return redirect(url_for("web.swv", code=g.access.scope))
    # Only SWVs with schools in the region: one whose schools all lie outside it would open an empty page.
    counts = svc.swvs_in_region(data)
    swvs = sorted(((c, data.swv_names.get(c, c), n) for c, n in counts.items()), key=lambda x: x[1].lower())
    audit.record(g.access.user_id, "view", "swv lijst", "html")
    return render_template("swv_list.html", swvs=swvs, hidden=len(data.swv_members) - len(counts))


def _swv_view(data, code: str):
    code = code.upper()
    if not g.access.may_see_swv(code):
        abort(403)
    if code not in data.swv_members:
        abort(404)
    view, sort = _overview_context(data, code)
    return code, view, sort


@bp.get("/swv/<code>")
@page_roles(*REGION_ROLES)
def swv(code: str):
    data = svc.load()
    if not data.releases:
        return render_template("empty.html"), 200
    code, view, sort = _swv_view(data, code)
    table = exports.overview_table(view["scholen"], view["schooljaar"],
                                   lambda c: url_for("web.factsheet", vestigingscode=c, schooljaar=view["schooljaar"]),
                                   data.swv_names)
    gemeenten = sorted({r.gemeentenaam or "onbekend" for r in view["scholen"]})
    members = data.swv_members.get(code, set())
    in_region = members & svc.region_schools(data)
    support = svc.swv_support(data, code, view["scholen"], view["schooljaar"])
    school_url = lambda c: url_for("web.factsheet", vestigingscode=c, schooljaar=view["schooljaar"])  # noqa: E731
    support_table = exports.swv_support_table(support, view["schooljaar"], school_url)
    overlap = svc.swv_overlap(data, code, view["scholen"], view["schooljaar"])
    overlap_table = exports.swv_overlap_table(overlap, view["schooljaar"], school_url)
    trend_table = exports.swv_trend_table(overlap, code)
    audit.record(g.access.user_id, "view", f"swv {code} {view['schooljaar']}", "html")
    return render_template("swv.html", code=code, naam=data.swv_names.get(code, code), view=view, table=table, sort=sort,
                           sorting=_sorting(sort), members=len(members), in_region=len(in_region),
                           published=sum(1 for r in view["scholen"] if r.rate.published),
                           gemeenten=gemeenten, schooljaren=data.schooljaren, support=support,
                           support_table=support_table, overlap=overlap, overlap_table=overlap_table,
                           trend_table=trend_table)


@bp.get("/swv/<code>/export.<fmt>")
@page_roles(*REGION_ROLES)
def swv_export(code: str, fmt: str):
    data = svc.load()
    code, view, _ = _swv_view(data, code)
    table = exports.overview_table(view["scholen"], view["schooljaar"], swv_names=data.swv_names)
    tables = [table]
    support = svc.swv_support(data, code, view["scholen"], view["schooljaar"])
    if support.participates:
        tables.append(exports.swv_support_table(support, view["schooljaar"]))
        overlap = svc.swv_overlap(data, code, view["scholen"], view["schooljaar"])
        if overlap.counted:
            tables.append(exports.swv_overlap_table(overlap, view["schooljaar"]))
        tables.append(exports.swv_trend_table(overlap, code))
    return _export(tables, f"jeugdhulp-swv-{code}-{view['schooljaar']}", fmt, f"swv {code} {view['schooljaar']}",
                   view["schooljaar"])


# --- all figures of a publication ----------------------------------------------------------------


@bp.get("/publicaties/<int:release_id>/cijfers.<fmt>")
@page_roles(*REGION_ROLES)
def publication_figures(release_id: int, fmt: str):
    """Every figure of one publication the user may see, one row per figure (tidy long format)."""
    from flask import current_app

    from hub.dutch import publication_line
    from hub.services import releases as release_service
    from hub.web import tidy

    if fmt not in EXPORT_TYPES:
        abort(404)
    try:
        pub = svc.publication(release_id)
        cells = release_service.release_cells(release_id, access=g.access)
    except JeugdhubError as exc:
        if exc.http_status == 404:
            abort(404)
        raise
    region = current_app.config["REGION_NAME"]
    rows = tidy.rows(cells, svc.load(), pub, region)
    source = publication_line(pub, region, pub["schooljaar"])
    body = tidy.to_csv(rows, source) if fmt == "csv" else tidy.to_xlsx(rows, source)
    audit.record(g.access.user_id, "export", f"cijfers publicatie {release_id}", fmt)
    return _download(body, f"jeugdhulp-cijfers-publicatie-{release_id}-{pub['schooljaar']}.{fmt}", EXPORT_TYPES[fmt])


# --- coverage / consortia ------------------------------------------------------------------------


def _coverage(data):
    swv = g.access.scope if g.access.role == "swv" else (request.args.get("swv") or None)
    view = svc.coverage_view(data, g.access, request.args.get("schooljaar") or None, request.args.get("gemeente") or None,
                             request.args.get("schooltype") or None, swv)
    return view, exports.coverage_table(view["scholen"], data, view["schooljaar"], view["alleen_eigen_consortium"])


@bp.get("/aanbieders")
@page_roles(*COVERAGE_ROLES)
def coverage():
    data = svc.load()
    if not data.releases:
        return render_template("empty.html"), 200
    view, table = _coverage(data)
    gemeenten, types = _filter_options(data, view["schooljaar"])
    audit.record(g.access.user_id, "view", f"aanbieders {view['schooljaar']}", "html")
    return render_template("coverage.html", view=view, table=table, gemeenten=gemeenten, types=types,
                           schooljaren=data.schooljaren, export_args=dict(request.args))


@bp.get("/aanbieders.<fmt>")
@page_roles(*COVERAGE_ROLES)
def coverage_export(fmt: str):
    data = svc.load()
    view, table = _coverage(data)
    return _export([table], f"aanbieders-{view['schooljaar']}", fmt, f"aanbieders {view['schooljaar']}", view["schooljaar"])


@bp.route("/beheer/consortia", methods=["GET", "POST"])
@page_roles(*ADMIN)
def consortia():
    from hub.services import consortia as consortia_service

    result, error = None, None
    if request.method == "POST":
        file = request.files.get("bestand")
        if file is None or not file.filename:
            error = "Kies een CSV-bestand."
        else:
            try:
                result = consortia_service.import_csv(file.read(), file.filename)
                audit.record(g.access.user_id, "admin", f"consortiumtabel {file.filename}")
            except JeugdhubError as exc:
                error = exc.message
    return render_template("consortia.html", result=result, error=error, table=consortia_service.current_table(),
                           ids=consortia_service.consortium_ids()), (400 if error else 200)


# --- admin ---------------------------------------------------------------------------------------


@bp.get("/beheer/rondes")
@page_roles(*ADMIN)
def rounds():
    from hub.services import nodes as node_service
    from hub.services import releases as release_service
    from hub.services import rounds as round_service

    statuses = [round_service.round_status(r.id) for r in reversed(round_service.all_rounds())]
    # A combine in any process writes its step to the database (hub/services/combine.py).
    combining = {s.id: p for s in statuses if (p := round_service.combine_progress(s.id)) is not None}
    audit.record(g.access.user_id, "view", "beheer rondes", "html")
    return render_template("rounds.html", statuses=statuses, nodes=node_service.list_nodes(),
                           releases=release_service.list_releases(), combining=combining,
                           refresh_seconds=10 if any(not p["stale"] for p in combining.values()) else None)


@bp.route("/beheer/upload", methods=["GET", "POST"])
@page_roles(*ADMIN)
def upload():
    from hub.services import rounds as round_service
    from hub.services import submissions

    receipt, error = None, None
    open_rounds = round_service.all_rounds(status="open")
    if request.method == "POST":
        file = request.files.get("bestand")
        try:
            round_id = int_field("ronde", request.form.get("ronde"))
        except JeugdhubError:
            round_id = None
        if round_id is None or file is None or not file.filename:
            error = "Kies een ronde en een bestand."
        else:
            try:
                receipt = submissions.receive(round_id, file.read(), source="upload")
                audit.record(g.access.user_id, "admin", f"upload ronde {round_id}")
            except JeugdhubError as exc:
                error = f"{exc.message} (code: {exc.code})"
    return render_template("upload.html", rounds=open_rounds, receipt=receipt, error=error), (400 if error else 200)


@bp.get("/beheer/audit")
@page_roles(*ADMIN)
def audit_log():
    from hub.extensions import db
    from hub.models.users import User

    events = audit.recent(300)
    emails = {u.id: u.email for u in db.session.query(User).all()}
    return render_template("audit.html", events=events, emails=emails, actions=audit.ACTIONS, results=audit.RESULTS,
                           chain=audit.verify())


@bp.get("/beheer/audit.csv")
@page_roles(*ADMIN)
def audit_log_export():
    """The whole audit log as CSV, with the chain's hashes (``jeugdhub audit export`` writes the same)."""
    audit.record(g.access.user_id, "export", "auditlog", "csv")
    return _download(exports.to_csv([exports.audit_table(audit.all_lines())]), "auditlog.csv", EXPORT_TYPES["csv"])


@bp.get("/help")
def help_page():
    return render_template("help.html", threshold=threshold())


@bp.get("/toegankelijkheid")
def accessibility():
    """The accessibility statement (toegankelijkheidsverklaring), public like /help."""
    return render_template("accessibility.html")


QUALITY_COLUMNS = ("rows_read", "rows_used", "rows_rejected", "rows_excluded", "unmatched_claim_lines", "unknown_locations")


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@bp.app_template_global()
def quality_summary(quality) -> dict[str, int | str]:
    """A node's data-quality figures for the rounds page, summed over its files (rejected/excluded
    are per reason). "–" where there is nothing, or where the stored block is not what the decoder
    now demands (a submission stored before it typed the quality block): the page must render."""
    out: dict[str, int | str] = dict.fromkeys(QUALITY_COLUMNS, "–")
    if not isinstance(quality, dict) or not quality:
        return out
    files = quality.get("files")
    if isinstance(files, list) and all(isinstance(f, dict) for f in files):
        for key in ("rows_read", "rows_used"):
            values = [_count(f.get(key, 0)) for f in files]
            out[key] = sum(values) if None not in values else "–"
        for key in ("rejected", "excluded"):
            groups = [f.get(key, {}) for f in files]
            values = [_count(v) for g in groups if isinstance(g, dict) for v in g.values()]
            ok = all(isinstance(g, dict) for g in groups) and None not in values
            out[f"rows_{key}"] = sum(values) if ok else "–"
    unmatched = _count(quality.get("unmatched_claim_lines", 0))
    out["unmatched_claim_lines"] = unmatched if unmatched is not None else "–"
    locations = quality.get("unknown_locations", [])
    out["unknown_locations"] = len(locations) if isinstance(locations, list) else "–"
    return out


@bp.app_template_global()
def bron_line(schooljaar: str | None = None) -> str:
    """Which publication a page, PDF or download shows (id, version, local date) and who takes part."""
    from flask import current_app

    from hub.dutch import publication_line

    data = svc.load()
    jaar = schooljaar if schooljaar in data.publications else data.latest()
    return publication_line(data.publications.get(jaar) if jaar else None, current_app.config["REGION_NAME"], jaar)


@bp.app_template_filter("lokaal")
def lokaal(value, seconds: bool = False) -> str:
    """A stored (UTC) time as Dutch local time."""
    from hub.dutch import local_time

    return local_time(value, seconds)


@bp.app_template_filter("actie")
def actie(action: str) -> str:
    from hub.dutch import AUDIT_ACTIONS

    return AUDIT_ACTIONS.get(action, action)


@bp.app_template_global()
def inline_css() -> str:
    """The stylesheet inlined, for WeasyPrint (a PDF must not fetch from the server that renders it)."""
    from pathlib import Path

    return (Path(__file__).parent / "static" / "hub.css").read_text(encoding="utf-8")


