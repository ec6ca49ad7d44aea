"""notebooks/10_real_failover.ipynb runs headless from the recorded runs, and what it says
holds for those runs (the recorded data in data/patroni/ is checked here too)."""

import re

import nbformat
import pandas as pd
import pytest

from replab.real.patroni import load_result
from replab.real.patroni.sweeps import describe_modes, describe_pause_sweep, load_sweeps, summarize
from tests.conftest import NOTEBOOKS, ROOT, cell_text, run_notebook
from tests.test_notebook_figures import cells_missing_images, figure_problems

NAME = "10_real_failover.ipynb"
DATA = ROOT / "data" / "patroni"


@pytest.fixture(scope="module")
def executed():
    return run_notebook(NAME)


def test_notebook_is_committed_clean_with_parameters_first():
    nb = nbformat.read(NOTEBOOKS / NAME, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    small = nb.metadata["replab"]["small"]
    assert small["LIVE"] is False and set(small) <= {"LIVE", "LIVE_SWEEPS", "PAUSES",
                                                     "REPEATS", "SEED"}
    for name in small:
        assert f"{name} =" in code[0].source
    assert "Finer:" in code[0].source
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)


@pytest.mark.timeout(120)
def test_notebook_draws_every_figure_and_prints_the_recorded_numbers(executed):
    assert cells_missing_images(executed) == []
    problems = figure_problems(executed)  # issue 21: the figure lint on every figure
    assert not problems, "figure lint:\n" + "\n".join(problems)
    text = cell_text(executed)
    run = load_result(DATA / "example_async")
    assert run.metrics["verdict"] in text
    sweeps = load_sweeps(DATA)
    by_pause = summarize(sweeps["pause_sweep"])
    assert describe_pause_sweep(by_pause, 20.0) in text
    assert describe_modes(summarize(sweeps["mode_sweep"])) in text
    m = re.search(r"P\(failover\) agrees at (\d+) of (\d+) settings", text)
    assert m is not None and int(m.group(2)) == len(sweeps["model"])


def test_the_recorded_example_tells_one_story():
    m = load_result(DATA / "example_async").metrics
    assert m["failover"] and m["lost_acknowledged"] == m["lost_in_data"] > 0
    assert m["lost_seen_on_old_leader"] == m["lost_in_data"]
    assert m["split_brain_writes"] > 0 and m["nodes_agree"]


def test_the_notebooks_claims_hold_for_the_recorded_sweeps():
    sweeps = load_sweeps(DATA)
    runs = pd.concat([sweeps["pause_sweep"], sweeps["mode_sweep"]])
    ttl, loop_wait = 20.0, 2.0
    assert sweeps["mode_sweep"]["failover"].all()  # "every run of this sweep failed over"
    quiet = runs[~runs["failover"]]
    # without a failover the clients are unavailable for exactly the pause
    assert ((quiet["unavailable_s"] - quiet["pause_s"]).abs() < 0.5).all()
    failed = runs[runs["failover"]]
    # failover between ttl - loop_wait and ttl + loop_wait after the pause began
    assert failed["failover_s"].between(ttl - loop_wait, ttl + loop_wait).all()
    assert (failed["pause_s"] > failed["failover_s"]).all()  # it came during the pause
    # async loses what the old leader acknowledged after the election; sync loses nothing
    lazy = failed[failed["mode"] == "async"]
    # nearly all of them: a commit that reached the standby before the pause survives
    assert (lazy["lost_acknowledged"] <= lazy["split_brain_writes"]).all()
    assert (lazy["lost_acknowledged"] >= 0.95 * lazy["split_brain_writes"]).all()
    assert (lazy["lost_acknowledged"] > 0).all() and (lazy["split_brain_s"] > 1.0).all()
    assert (failed[failed["mode"] == "sync"]["lost_acknowledged"] == 0).all()
    assert (runs["lost_acknowledged"] == runs["lost_in_data"]).all()
    # the simulator's split brain is a handful of writes, Patroni's hundreds
    model = sweeps["model"]
    assert model[model["p_failover"] > 0]["split_brain_writes"].max() < \
        lazy["split_brain_writes"].min() / 10


def test_the_readmes_numbers_are_the_recorded_ones():
    sweeps = load_sweeps(DATA)
    pauses, runs = sweeps["pause_sweep"], pd.concat([sweeps["pause_sweep"],
                                                     sweeps["mode_sweep"]])
    short, long = pauses[pauses["pause_s"] <= 20], pauses[pauses["pause_s"] > 20]
    lazy = runs[(runs["mode"] == "async") & runs["failover"]]
    sync = runs[runs["mode"] == "sync"]
    failed = long[long["failover"]]
    said = " ".join((ROOT / "README.md").read_text().split())
    for claim in (
            f"never failed over (0 of {len(short)} runs)",
            f"always did ({long['failover'].sum()} of {len(long)})",
            f"{failed['failover_s'].min():.1f}-{failed['failover_s'].max():.1f} s after the "
            "pause began",
            f"acknowledging writes for {lazy['split_brain_s'].min():.1f}-"
            f"{lazy['split_brain_s'].max():.1f} s",
            f"{lazy['split_brain_writes'].min()}-{lazy['split_brain_writes'].max()} writes a "
            "run acknowledged after another node was elected",
            f"{lazy['lost_acknowledged'].min()}-{lazy['lost_acknowledged'].max()} acknowledged "
            "writes a run lost",
            f"all but {lazy['split_brain_writes'].sum() - lazy['lost_acknowledged'].sum()} of "
            f"the {lazy['split_brain_writes'].sum()} split-brain writes of the {len(lazy)} runs",
            f"In sync mode none was lost (0 in {len(sync)} runs)",
            f"{runs['rejoin_s'].min():.0f}-{runs['rejoin_s'].max():.0f} s after it resumed"):
        assert claim in said, claim
    assert short["failover"].sum() == 0 and (sync["lost_acknowledged"] == 0).all()
    assert (runs["lost_acknowledged"] == runs["lost_in_data"]).all()
    model = sweeps["model"]
    lazy_model = model[(model["p_failover"] > 0) & (model["mode"] == "async")]
    assert lazy_model["lost_acknowledged"].between(3, 5).all()  # "loses about 4 writes"
