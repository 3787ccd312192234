"""hub/cache.py: the view cache's keys, bounds and versions; the shared chart cache's content keys."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from hub import cache
from hub.access import Access
from tests.hub.conftest import make_app

ADMIN = Access(1, "a@example.nl", "regio_admin", None)
SWV = Access(2, "s@example.nl", "swv", "PO2701")


@dataclass(frozen=True)
class Point:
    x: float
    label: str | None


def test_canonical_writes_down_dataclasses_dicts_in_order_and_exact_floats():
    a = cache.canonical({"b": [Point(0.1, None)], "a": (1, True)})
    assert a == cache.canonical({"b": [Point(0.1, None)], "a": (1, True)})
    assert a != cache.canonical({"a": (1, True), "b": [Point(0.1, None)]})  # series order is colour order
    assert cache.canonical(Point(0.1, "x")) != cache.canonical(Point(0.1 + 1e-16, "x"))
    assert repr(cache.canonical((1,))) != repr(cache.canonical((True,)))  # the key is the repr
    assert cache.canonical([1]) != cache.canonical((1,))


def test_canonical_refuses_what_it_cannot_write_down_exactly():
    for obj in (object(), lambda: 1, {1, 2}):
        with pytest.raises(TypeError):
            cache.canonical(obj)
    assert cache.canonical(cache.canonical) == ("fn", "hub.cache", "canonical")


def test_the_view_cache_is_bounded_and_empties_when_the_data_changes():
    views = cache.ViewCache(max_bytes=1000)
    views.put((1,), ("a",), "x" * 300)
    views.put((1,), ("b",), "y" * 300)
    assert views.get((1,), ("a",)) == "x" * 300
    views.put((1,), ("c",), "z" * 500)  # over the bound: the least recently used goes
    assert views.get((1,), ("b",)) is None and views.get((1,), ("a",)) == "x" * 300
    views.put((1,), ("huge",), "h" * 5000)  # larger than the whole cache: not kept
    assert views.get((1,), ("huge",)) is None
    views.put((2,), ("d",), "new")
    assert len(views) == 1 and views.get((1,), ("a",)) is None and views.get((2,), ("d",)) == "new"


@pytest.fixture
def app():
    app = make_app()
    with app.test_request_context():
        yield app


def test_view_keys_on_the_scope_and_computes_again_for_another(app):
    data = SimpleNamespace(version=("v1",))
    calls = []

    def compute(who):
        return lambda: calls.append(who) or f"for {who}"

    assert cache.view("x", data, ADMIN, (), compute("admin")) == "for admin"
    assert cache.view("x", data, ADMIN, (), compute("admin again")) == "for admin"
    assert cache.view("x", data, SWV, (), compute("swv")) == "for swv"
    assert cache.view("x", data, ADMIN, ("other",), compute("admin other")) == "for admin other"
    # Another user with the admin's role and scope sees what the admin sees.
    colleague = Access(3, "b@example.nl", "regio_admin", None)
    assert cache.view("x", data, colleague, (), compute("colleague")) == "for admin"
    assert calls == ["admin", "swv", "admin other"]


def test_view_keeps_nothing_without_a_version_when_disabled_or_on_an_error(app):
    calls = []
    compute = lambda: calls.append(1) or "answer"  # noqa: E731
    cache.view("x", SimpleNamespace(version=()), ADMIN, (), compute)
    cache.view("x", SimpleNamespace(version=()), ADMIN, (), compute)
    assert len(calls) == 2
    app.config["CACHE_ENABLED"] = False
    data = SimpleNamespace(version=("v1",))
    cache.view("x", data, ADMIN, (), compute)
    cache.view("x", data, ADMIN, (), compute)
    assert len(calls) == 4
    app.config["CACHE_ENABLED"] = True

    def fails():
        calls.append("error")
        raise LookupError("404")

    for _ in range(2):
        with pytest.raises(LookupError):
            cache.view("y", data, ADMIN, (), fails)
    assert calls.count("error") == 2


def test_a_chart_is_drawn_once_per_input(app):
    drawn = []

    def draw(parts):
        return cache.chart(parts, lambda: drawn.append(parts) or f"<svg>{len(drawn)}</svg>")

    assert draw(("trend", {"a": [0.5]})) == "<svg>1</svg>"
    assert draw(("trend", {"a": [0.5]})) == "<svg>1</svg>"
    assert draw(("trend", {"a": [0.6]})) == "<svg>2</svg>"
    assert draw(("trend", object())) == "<svg>3</svg>" and draw(("trend", object())) == "<svg>4</svg>"


def test_the_workers_share_charts_in_a_directory(tmp_path):
    drawn = []
    workers = [make_app(CACHE_DIR=str(tmp_path / "charts")) for _ in range(2)]
    for worker in workers:
        with worker.test_request_context():
            assert cache.chart(("funnel", 1.5), lambda: drawn.append(1) or "<svg/>") == "<svg/>"
    assert drawn == [1]
    assert (tmp_path / "charts").stat().st_mode & 0o077 == 0  # published figures, but the hub's own files


def test_a_broker_redis_holds_the_charts_and_its_absence_only_costs_time():
    # Nothing listens on port 9: every call fails, and the chart is drawn instead.
    app = make_app(CELERY_BROKER_URL="redis://127.0.0.1:9/0")
    drawn = []
    with app.test_request_context():
        assert type(cache._charts().cache).__name__ == "RedisCache"
        for _ in range(2):
            assert cache.chart(("trend",), lambda: drawn.append(1) or "<svg/>") == "<svg/>"
    assert drawn == [1, 1]


def test_the_view_cache_on_many_threads_at_once_returns_only_what_was_put_for_that_version():
    """gunicorn's gthread workers share one ViewCache per process: lookups, puts, evictions (a small
    cache) and version changes from several threads at once neither fail nor mix answers up."""
    from concurrent.futures import ThreadPoolExecutor

    from hub.cache import ViewCache

    cache = ViewCache(max_bytes=4_000)

    def work(t: int) -> list[str]:
        wrong = []
        for i in range(3_000):
            version, key = (i // 500,), ("view", t % 3, i % 23)
            value = f"{version}:{key}"
            found = cache.get(version, key)
            if found is not None and found != value:
                wrong.append(found)
            cache.put(version, key, value)
        return wrong

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))

    assert results == [[]] * 8
    assert cache.hits > 0 and cache.misses > 0
