import re

import pytest

from tests.conftest import cell_text, run_notebook

pytestmark = pytest.mark.timeout(900)


def test_quorum_staleness_notebook_runs_and_times_sliders():
    nb = run_notebook("01_quorum_staleness.ipynb",
                      {"TRIALS": 20_000, "GRID_TRIALS": 2_000, "SLIDER_MOVES": 3})
    text = cell_text(nb)
    m = re.search(r"slider move -> redrawn image, in the kernel: median (\d+) ms", text)
    assert m, text[:2000]


def test_reproduce_pbs_notebook_runs():
    nb = run_notebook("02_reproduce_pbs.ipynb", {"TRIALS": 20_000, "TAIL_TRIALS": 200_000})
    text = cell_text(nb)
    assert "published numbers lie inside replab's 95 % CI" in text
    # issue 12: the authors' first-crossing procedure, beside the true quantile
    found = re.findall(r"first crossing (\S+): median ([\d.]+) ms, 90 % of runs in "
                       r"\[([\d.]+), ([\d.]+)\] ms; true quantile ([\d.]+) ms", text)
    assert [f[0] for f in found] == ["LNKD-SSD", "LNKD-DISK", "YMMR", "WAN"]
    assert all(float(f[1]) <= float(f[4]) for f in found)  # the procedure reports early
    assert "YMMR-code" in text
    # issue 23: the tail, every sentence rendered from tail_visibility's own numbers
    tail = re.findall(r"tail (\S+) ([\d.]+) %: ([\d.e+]+) ms, 95 % CI \[([\d.e+]+), "
                      r"([\d.e+]+)\] ms, (\d+)% of the time wide", text)
    assert len(tail) == 12 and {t[1] for t in tail} == {"99.99", "99.999", "99.9999"}
    assert all(float(lo) <= float(t) <= float(hi) for _, _, t, lo, hi, _ in tail)
    from replab.quorum import tail_visibility

    want = tail_visibility(trials=200_000, seed=0)
    assert [float(t[2]) for t in tail] == pytest.approx(want.t.tolist(), rel=1e-3)
