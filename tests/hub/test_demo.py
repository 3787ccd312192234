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


def test_a_failed_demo_stops_the_agent_processes_it_started():
    import subprocess
    import sys

    from hub.demo import Started, stop_agents

    procs = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    done = subprocess.Popen([sys.executable, "-c", "pass"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done.wait(30)
    stop_agents([Started([], ("run",), procs), Started([], ("enrol",), [done])])
    assert all(p.poll() is not None for p in procs) and done.returncode == 0
