"""The service transaction helper: commit on success, roll back on any error."""

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.models.nodes import Node
from hub.services._util import transaction, utcnow


def _node(code):
    return Node(code=code, naam=f"Gemeente {code}", status="active", created_at=utcnow())


def test_commits_when_the_block_ends(app):
    with transaction():
        db.session.add(_node("0356"))
    db.session.expunge_all()
    assert db.session.scalar(select(Node.code)) == "0356"


def test_rolls_back_and_reraises(app):
    with pytest.raises(RuntimeError):
        with transaction():
            db.session.add(_node("0321"))
            db.session.flush()
            raise RuntimeError("halfway")
    assert db.session.scalar(select(db.func.count()).select_from(Node)) == 0
