"""Flask-Login for the pages: the login manager and how a session's user is loaded.

Roles, scope and the route guards live in hub/access.py (the API uses them too).
"""

from __future__ import annotations

from flask_login import LoginManager

login_manager = LoginManager()


def init_login(app) -> None:
    from hub.services import users

    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = "Log in om deze pagina te zien."
    login_manager.session_protection = "strong"
    login_manager.user_loader(users.load_user)
