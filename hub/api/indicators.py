"""JSON endpoints for indicators (``/api/v1/schooljaren``, ``/scholen``, ``/regio``, ``/aanbieders``, funnels).

Thin: parse the query, check role and scope, call :mod:`hub.services.indicators`, record the view.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

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
    view = svc.overview(data, g.access, query_value("schooljaar"), sort=sort, descending=desc,
                        zoek=request.args.get("zoek") or None, **_filters())
    audit.record(g.access.user_id, "view", f"api scholen {view['schooljaar']}", "json")
    return jsonify({**{k: v for k, v in view.items() if k != "scholen"}, "scholen": [r.to_dict() for r in view["scholen"]]})


@bp.get("/scholen/<vestigingscode>")
@api_roles(*FACTSHEET_ROLES)
def school(vestigingscode: str):
    data = svc.load()
    if not svc.school_visible(data, g.access, vestigingscode.upper()):
        raise ForbiddenError("Deze school valt buiten uw bereik", code="out_of_scope")
    sheet = svc.factsheet(data, g.access, vestigingscode, query_value("schooljaar"))
    audit.record(g.access.user_id, "view", f"api factsheet {vestigingscode.upper()} {sheet['schooljaar']}", "json")
    return jsonify(svc.factsheet_to_dict(data, sheet))


@bp.get("/schooltypes/<schooltype>/funnel")
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
