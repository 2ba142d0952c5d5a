"""The Grafana dashboard queries only metrics the service exports, and shows every one."""

from __future__ import annotations

import json
import re

from prometheus_client import Counter, Histogram

from config import PROJECT_ROOT
from utils import metrics

DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "tts-dashboard.json"
SUFFIXES = {Counter: ("_total",), Histogram: ("_bucket", "_count", "_sum")}


def exported() -> dict[str, str]:
    """Each series name the service exposes -> the metric it belongs to."""
    names = {}
    for value in vars(metrics).values():
        for kind, suffixes in SUFFIXES.items():
            if isinstance(value, kind):
                names.update({value._name + s: value._name for s in suffixes})
    for gauge in (metrics.SLOTS_IN_USE, metrics.BLOCKS_WAITING, metrics.QUEUE_DEPTH):
        names[gauge] = gauge
    return names


def queried() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    assert exprs, "the dashboard has no queries"
    return {name for expr in exprs for name in re.findall(r"\btts_[A-Za-z0-9_:]*", expr)}


def test_every_metric_the_dashboard_queries_is_exported():
    unknown = queried() - exported().keys()
    assert not unknown, f"the dashboard queries metrics nobody exports: {sorted(unknown)}"


def test_every_exported_metric_has_a_panel():
    shown = {exported()[name] for name in queried() if name in exported()}
    missing = set(exported().values()) - shown
    assert not missing, f"metrics without a panel: {sorted(missing)}"
