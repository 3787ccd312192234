"""Routes of ``/api/v1``: thin — parse the request, call one service, shape the answer."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import text

from hub.access import RELEASE_ROLES, api_roles, require_admin
from hub.api.auth import has_bearer, has_signature, require_node
from hub.extensions import db
from hub.guards import int_field, json_body, query_value
from hub.services import exchange as exchange_service
from hub.services import nodes as node_service
from hub.services import releases as release_service
from hub.services import rounds as round_service
from hub.services import submissions as submission_service
from shared.errors import InputError
from shared.messages import EnrolmentRequest

log = logging.getLogger(__name__)

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")


@bp.post("/nodes/enrol")
def enrol():
    response = node_service.enrol(EnrolmentRequest.from_dict(json_body()))
    return jsonify(response.to_dict()), 201


@bp.get("/rounds")
def list_rounds():
    status = query_value("status")
    if has_signature() or not has_bearer():
        node = require_node()
        rounds = round_service.list_rounds(status, node)
    else:
        require_admin()
        rounds = round_service.list_rounds(status)
    return jsonify({"rounds": [r.to_dict() for r in rounds]})


@bp.get("/rounds/<int:round_id>")
def round_status(round_id: int):
    require_admin()
    return jsonify(round_service.round_status(round_id).to_dict())


@bp.post("/rounds/<int:round_id>/submissions")
def submit(round_id: int):
    node = require_node()
    receipt = submission_service.receive(round_id, request.get_data(cache=True), node, source="api")
    return jsonify(receipt.to_dict()), 201 if receipt.status == submission_service.ACCEPTED else 200


@bp.get("/rounds/<int:round_id>/exchanges")
def exchanges(round_id: int):
    """A node's overlap exchanges in the round, with its next step in each (docs/overlap.md)."""
    node = require_node()
    return jsonify(exchange_service.node_tasks(round_id, node).to_dict())


@bp.post("/rounds/<int:round_id>/exchanges/<exchange_id>/blinded")
def exchange_blinded(round_id: int, exchange_id: str):
    node = require_node()
    task = exchange_service.receive_blinded(round_id, exchange_id, node, request.get_data(cache=True))
    return jsonify(task.to_dict())


@bp.get("/rounds/<int:round_id>/exchanges/<exchange_id>/peer")
def exchange_peer(round_id: int, exchange_id: str):
    node = require_node()
    data = exchange_service.peer_payload(round_id, exchange_id, node)
    return Response(data, mimetype="application/json")


@bp.post("/rounds/<int:round_id>/exchanges/<exchange_id>/reblinded")
def exchange_reblinded(round_id: int, exchange_id: str):
    node = require_node()
    task = exchange_service.receive_reblinded(round_id, exchange_id, node, request.get_data(cache=True))
    return jsonify(task.to_dict())


@bp.post("/uploads")
def upload():
    """Manual upload of an envelope file the agent wrote in offline mode."""
    require_admin()
    round_id = int_field("round_id", request.form.get("round_id"))
    file = request.files.get("file")
    if file is None:
        raise InputError("Kies een bestand om te uploaden (veld 'file')", code="invalid_input")
    receipt = submission_service.receive(round_id, file.read(), None, source="upload")
    return jsonify(receipt.to_dict()), 201 if receipt.status == submission_service.ACCEPTED else 200


@bp.get("/releases")
@api_roles(*RELEASE_ROLES)
def list_releases():
    schooljaar = query_value("schooljaar")
    if request.args.get("current", "").lower() in ("1", "true", "yes"):
        if schooljaar:
            one = release_service.current_release(schooljaar)
            summaries = [one] if one is not None else []
        else:
            summaries = release_service.current_releases()
    else:
        summaries = release_service.list_releases(schooljaar)
    return jsonify({"releases": [s.to_dict() for s in summaries]})


@bp.get("/releases/<int:release_id>")
@api_roles(*RELEASE_ROLES)
def get_release(release_id: int):
    return jsonify(release_service.get_release(release_id).to_dict())


@bp.get("/releases/<int:release_id>/cells")
@api_roles(*RELEASE_ROLES)
def release_cells(release_id: int):
    args = request.args
    cells = release_service.release_cells(
        release_id,
        access=g.access,
        level=query_value("level"),
        unit=args.get("unit") or None,
        measure=args.get("measure") or None,
        category=args.get("category"),
    )
    return jsonify({"release_id": release_id, "cells": [c.to_dict() for c in cells]})


@bp.get("/health")
def health():
    database = "ok"
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:  # noqa: BLE001 — health reports, it does not raise
        log.warning("health: database unreachable (%s)", type(exc).__name__)
        database = "error"
    broker = _broker_status()
    healthy = database == "ok" and broker != "error"
    body = {"status": "ok" if healthy else "degraded", "database": database, "broker": broker}
    return jsonify(body), 200 if database == "ok" else 503


def _broker_status() -> str:
    celery_app = current_app.extensions["celery"]
    if celery_app.conf.task_always_eager:
        return "eager"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        log.warning("health: broker unreachable (%s)", type(exc).__name__)
        return "error"
    return "ok"


@bp.get("/openapi.yaml")
def openapi():
    return Response(OPENAPI_PATH.read_text(encoding="utf-8"), mimetype="application/yaml")
