"""The Dutch web pages for region, gemeente, SWV, consortium and school users."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
