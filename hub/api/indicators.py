"""JSON endpoints for indicators (``/api/v1/schooljaren``, ``/scholen``, ``/regio``, ``/aanbieders``, funnels).

Thin: parse the query, check role and scope, call :mod:`hub.services.indicators`, record the view.
The overview and factsheet answers are kept per publication, scope and arguments (hub/cache.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from hub import cache
from hub.guards import query_value
from hub.services import audit
from hub.services import indicators as svc
from hub.access import ALL_ROLES, COVERAGE_ROLES, FACTSHEET_ROLES, REGION_ROLES, api_roles
from shared.errors import ForbiddenError

bp = Blueprint("indicators_api", __name__, url_prefix="/api/v1")


def _sort_arg() -> tuple[str, bool]:
    raw = request.args.get("sort", "naam")
    return (raw[1:], True) if raw.startswith("-") else (raw, False)


def _filters() -> dict:
    return {"gemeente": query_value("gemeente"), **{k: request.args.get(k) or None for k in ("schooltype", "swv")}}


@bp.get("/schooljaren")
@api_roles(*ALL_ROLES)
def schooljaren():
    data = svc.load()
    return jsonify({"schooljaren": svc.schooljaren(data)})


@bp.get("/scholen")
@api_roles(*REGION_ROLES)
def scholen():
    data = svc.load()
    sort, desc = _sort_arg()
    zoek, schooljaar, filters = request.args.get("zoek") or None, query_value("schooljaar"), _filters()

    def answer() -> tuple[str, bytes]:
        view = svc.overview(data, g.access, schooljaar, sort=sort, descending=desc, zoek=zoek, **filters)
        body = {**{k: v for k, v in view.items() if k != "scholen"}, "scholen": [r.to_dict() for r in view["scholen"]]}
        return view["schooljaar"], jsonify(body).get_data()

    args = (schooljaar, sort, desc, zoek, tuple(filters.items()))
    jaar, body = cache.view("api scholen", data, g.access, args, answer)
    audit.record(g.access.user_id, "view", f"api scholen {jaar}", "json")
    return _json(body)


@bp.get("/scholen/<vestigingscode>")
@api_roles(*FACTSHEET_ROLES)
def school(vestigingscode: str):
    data = svc.load()
    if not svc.school_visible(data, g.access, vestigingscode.upper()):
        raise ForbiddenError("Deze school valt buiten uw bereik", code="out_of_scope")
    schooljaar = query_value("schooljaar")

    def answer() -> tuple[str, bytes]:
        sheet = svc.factsheet(data, g.access, vestigingscode, schooljaar)
        return sheet["schooljaar"], jsonify(svc.factsheet_to_dict(data, sheet)).get_data()

    jaar, body = cache.view("api factsheet", data, g.access, (vestigingscode, schooljaar), answer)
    audit.record(g.access.user_id, "view", f"api factsheet {vestigingscode.upper()} {jaar}", "json")
    return _json(body)


def _json(body: bytes):
    """A JSON answer from its (cached) body, as ``jsonify`` would send it."""
    return current_app.response_class(body, mimetype=current_app.json.mimetype)


@bp.get("/schooltypes/<path:schooltype>/funnel")  # path: DUO names one type "SO/VSO"
@api_roles(*FACTSHEET_ROLES)
def funnel(schooltype: str):
    data = svc.load()
    result = svc.funnel(data, g.access, schooltype, query_value("schooljaar"))
    audit.record(g.access.user_id, "view", f"api funnel {schooltype} {result.schooljaar}", "json")
    return jsonify(result.to_dict())


@bp.get("/regio")
@api_roles(*REGION_ROLES)
def regio():
    data = svc.load()
    reg = svc.region(data, query_value("schooljaar"))
    audit.record(g.access.user_id, "view", f"api regio {reg['schooljaar']}", "json")
    return jsonify(svc.region_to_dict(reg))


@bp.get("/aanbieders")
@api_roles(*COVERAGE_ROLES)
def aanbieders():
    data = svc.load()
    view = svc.coverage_view(data, g.access, query_value("schooljaar"), **_filters())
    audit.record(g.access.user_id, "view", f"api aanbieders {view['schooljaar']}", "json")
    return jsonify({**{k: v for k, v in view.items() if k != "scholen"}, "scholen": [r.to_dict(data) for r in view["scholen"]]})
