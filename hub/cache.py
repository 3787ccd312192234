"""Caches for the pages and the API: what a request computes from the current publications is kept,
so the next request for the same thing, in the same scope, is a lookup.

Two caches, each with one rule that makes it safe:

- **Views** (:func:`view`; in each process, a byte-bounded ``cachetools.LRUCache``): answers ready to
  send — JSON bodies, the contents of a page — keyed by the version of the region data they were
  computed from (``RegionData.version``: the current release ids, the reference imports and the
  consortium table), the caller's scope (``Access.cache_key``: role, scope, a consortium's members
  and name — everything an ``Access`` decides by, and not who the user is), the view's name and its
  arguments. An answer computed for one scope is stored under that scope's key only, so another
  scope never finds it; data without a version is never cached. When the version changes (a new
  publication, a reference or consortium import, seen by the next request of every process) the
  cache is emptied.
- **Charts** (:func:`chart`; shared by the workers: the hub's Redis when it has one, else a directory):
  SVGs keyed by a digest of everything the chart is drawn from (the caller passes its function, all
  its arguments and the chart code's own fingerprint). Only a request that already holds exactly that
  data can find the entry, whatever its scope; new data is a new key, so nothing needs invalidating.
  Old entries expire (``CACHE_CHART_DAYS``).

``CACHE_ENABLED = false`` computes everything per request (tests compare both ways).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import numbers
import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

from cachetools import LRUCache
from flask import Flask, current_app

log = logging.getLogger(__name__)

T = TypeVar("T")

_VIEWS = "jeugdhub.view_cache"
_CHARTS = "jeugdhub.chart_cache"


class ViewCache:
    """The per-process cache of :func:`view`: values are str/bytes or tuples of them, bounded in bytes."""

    def __init__(self, max_bytes: int):
        self._lru: LRUCache = LRUCache(maxsize=max(1, max_bytes), getsizeof=_size)
        self._version: tuple | None = None
        self._lock = threading.Lock()  # requests run on threads: the embedded server, gunicorn's gthread workers
        self.hits = 0
        self.misses = 0

    def get(self, version: tuple, key: tuple) -> Any:
        with self._lock:
            if version != self._version:
                return None
            found = self._lru.get(key)
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
            return found

    def put(self, version: tuple, key: tuple, value: Any) -> None:
        with self._lock:
            if version != self._version:
                # Other data now: what was computed from the old data is of no use to anyone.
                self._lru.clear()
                self._version = version
            if _size(value) <= self._lru.maxsize:
                self._lru[key] = value

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()
            self._version = None

    def __len__(self) -> int:
        return len(self._lru)


def _size(value: Any) -> int:
    if isinstance(value, (str, bytes)):
        return len(value) + 64
    if isinstance(value, tuple):
        return sum(_size(v) for v in value) + 64
    return 256


def init_app(app: Flask) -> None:
    """Both caches for ``app``; the chart store is connected or created on its first use."""
    app.extensions[_VIEWS] = ViewCache(int(app.config["CACHE_VIEW_MB"]) * 1024 * 1024)
    app.extensions[_CHARTS] = None  # made on the first chart: a CLI command or a test makes no folder


_CHARTS_LOCK = threading.Lock()


def _charts():
    app = current_app._get_current_object()
    if app.extensions.get(_CHARTS) is None:
        with _CHARTS_LOCK:
            if app.extensions.get(_CHARTS) is None:
                app.extensions[_CHARTS] = _chart_store(app)
    return app.extensions[_CHARTS]


def _chart_store(app: Flask):
    """Flask-Caching over Redis (``CACHE_REDIS_URL``, else the broker's Redis), else a directory
    (``CACHE_DIR``, else the instance folder's ``cache/charts``); a test app without either keeps its
    charts in memory, so tests leave no files behind."""
    from flask_caching import Cache

    timeout = int(app.config["CACHE_CHART_DAYS"]) * 24 * 3600
    redis_url = app.config.get("CACHE_REDIS_URL") or _broker_redis(app)
    if redis_url:
        backend = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "jeugdhub:chart:"}
    elif app.config.get("CACHE_DIR") or not app.testing:
        folder = Path(app.config.get("CACHE_DIR") or Path(app.instance_path) / "cache" / "charts")
        # The files hold published figures as the viewer's scope showed them: readable by the hub only.
        backend = {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(folder), "CACHE_THRESHOLD": 20_000,
                  "CACHE_OPTIONS": {"mode": 0o600}}
    else:
        backend = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2_000}
    cache = Cache()
    try:
        cache.init_app(app, config={**backend, "CACHE_DEFAULT_TIMEOUT": timeout})
        if backend["CACHE_TYPE"] == "FileSystemCache":
            Path(backend["CACHE_DIR"]).chmod(0o700)
    except OSError as exc:  # e.g. a read-only instance folder: charts are then kept per process
        log.warning("chart cache in %s unavailable (%s); keeping charts in memory", backend.get("CACHE_DIR"), exc.strerror)
        cache = Cache()
        cache.init_app(app, config={"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2_000,
                                    "CACHE_DEFAULT_TIMEOUT": timeout})
    return cache


def _broker_redis(app: Flask) -> str | None:
    broker = str(app.config.get("CELERY_BROKER_URL") or "")
    return broker if broker.startswith(("redis://", "rediss://")) else None


def enabled() -> bool:
    return bool(current_app.config["CACHE_ENABLED"])


def view(name: str, data, access, args: tuple, compute: Callable[[], T]) -> T:
    """``compute()``'s answer for ``access``'s scope, computed once per data version, scope and ``args``.

    ``args`` must hold everything besides the data and the scope that the answer depends on (the
    request's arguments as given). ``compute`` returns str/bytes or a tuple of them; an exception
    (403, 404, a bad argument) is raised and nothing is kept.
    """
    version = getattr(data, "version", None)
    if not enabled() or not version:
        return compute()
    cache: ViewCache = current_app.extensions[_VIEWS]
    key = (name, access.cache_key, args)
    found = cache.get(version, key)
    if found is not None:
        return found
    value = compute()
    cache.put(version, key, value)
    return value


def view_cache() -> ViewCache:
    return current_app.extensions[_VIEWS]


def chart(parts: tuple, render: Callable[[], str]) -> str:
    """``render()``'s SVG, shared by every process under the digest of ``parts`` (everything the chart
    is drawn from). Parts that cannot be written down exactly are drawn every time."""
    if not enabled():
        return render()
    store = _charts()
    try:
        key = hashlib.sha256(repr(canonical(parts)).encode("utf-8")).hexdigest()
    except TypeError:
        return render()
    svg = _store_call(store.get, key)
    if isinstance(svg, str):
        return svg
    svg = render()
    _store_call(store.set, key, svg)
    return svg


def _store_call(fn, *args):
    """A Redis that is away makes charts slower, not pages fail."""
    from redis.exceptions import RedisError

    try:
        return fn(*args)
    except (OSError, RedisError) as exc:
        log.warning("chart cache unavailable (%s)", type(exc).__name__)
        return None


def canonical(obj: Any) -> Any:
    """``obj`` as nested tuples of plain values whose ``repr`` says exactly what it holds: dataclasses
    field by field (with their type), dicts in their order (a chart's series order is its colours),
    floats exactly. Anything else raises TypeError."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        return float(obj)
    if isinstance(obj, (tuple, list)):
        return (type(obj).__name__, tuple(canonical(x) for x in obj))
    if isinstance(obj, dict):
        return ("dict", tuple((canonical(k), canonical(v)) for k, v in obj.items()))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return (type(obj).__module__ + "." + type(obj).__qualname__,
                tuple((f.name, canonical(getattr(obj, f.name))) for f in dataclasses.fields(obj)))
    if callable(obj) and "<" not in getattr(obj, "__qualname__", "<"):  # a module's function, not a lambda
        return ("fn", obj.__module__, obj.__qualname__)
    raise TypeError(f"cannot key a chart on {type(obj).__name__}")
