"""``/login/oidc`` and ``/login/oidc/callback``: sign-in with the organisation's own identity provider.

Authlib's Flask client does the protocol: state, nonce and PKCE (S256) are kept in the session and
checked on the way back; the ID token is verified against the provider's keys (discovery document).
"""

from __future__ import annotations

import json

from flask import abort, current_app, redirect, render_template, request, session, url_for

from hub.services import audit, mfa, oidc
from hub.web.auth import start_session
from hub.web.blueprint import bp, safe_next
from hub.web.mfa_views import begin_second_factor

NEXT = "_hub_oidc_next"


def init_oidc(app) -> None:
    if not oidc.configured(app.config):
        return
    from authlib.integrations.flask_client import OAuth

    oidc.provisioning(app.config)  # a bad setting stops the start, not the first login
    registry = OAuth(app)
    registry.register("organisatie", client_id=app.config["OIDC_CLIENT_ID"],
                      client_secret=app.config.get("OIDC_CLIENT_SECRET"),
                      server_metadata_url=oidc.discovery_url(app.config),
                      client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"})
    app.extensions["hub_oidc"] = registry


def _client():
    registry = current_app.extensions.get("hub_oidc")
    if registry is None:
        abort(404)
    return registry.organisatie


@bp.get("/login/oidc")
def login_oidc():
    client = _client()
    session[NEXT] = safe_next(request.args.get("next"))
    # Ask for amr/acr in the ID token (OIDC Core 5.5, the claims parameter): the hub's MFA rule reads them.
    return client.authorize_redirect(url_for("web.login_oidc_callback", _external=True),
                                     claims=json.dumps({"id_token": {"amr": None, "acr": None}}))


@bp.get("/login/oidc/callback")
def login_oidc_callback():
    from authlib.integrations.base_client import OAuthError

    from shared.errors import InputError

    client = _client()
    next_url = session.pop(NEXT, None)
    claims: dict = {}
    try:
        token = client.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        user = oidc.user_for_claims(claims, current_app.config)
    except (OAuthError, InputError) as exc:
        message = exc.message if isinstance(exc, InputError) else "Inloggen bij uw organisatie is niet gelukt. Probeer het opnieuw."
        detail = getattr(exc, "code", None) or getattr(exc, "error", None) or "oidc"
        audit.record(None, "login_failed", f"login oidc ({detail})", result="failed",
                     actor=str(claims.get("email") or "(oidc)"))
        return render_template("login.html", error=message), 401
    if oidc.idp_did_mfa(claims, current_app.config):
        start_session(user)
        audit.record(user.id, "login", "login oidc (tweede factor bij de organisatie)", actor=user.email)
        return redirect(next_url or url_for("web.home"))
    if mfa.enrolled(user) or mfa.required(user):
        return begin_second_factor(user, next_url)  # the hub's own code; the login is recorded after it
    start_session(user)
    audit.record(user.id, "login", "login oidc", actor=user.email)
    return redirect(next_url or url_for("web.home"))
