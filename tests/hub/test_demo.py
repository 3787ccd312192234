"""The demo's synthetic tables (the full build runs in bench/hub/bench_demo.py and ``make demo``)."""

from hub.demo import DEMO_CONSORTIA, DEMO_CONSORTIA_WITHOUT_NAMES, demo_consortia_csv
from hub.services.consortia import parse_csv
from node_agent.synthetic.providers import PROVIDERS


def test_the_demo_consortium_table_leaves_some_names_to_the_nodes():
    rows = parse_csv(demo_consortia_csv(), "consortia-synthetisch.csv")
    names = {p.agb: p.naam for p in PROVIDERS}
    assert len(rows) == sum(len(m) for m in DEMO_CONSORTIA.values())
    for agb, naam, consortium in rows:
        assert naam == ("" if consortium in DEMO_CONSORTIA_WITHOUT_NAMES else names[agb])
    assert any(naam == "" for _, naam, _ in rows) and any(naam for _, naam, _ in rows)
