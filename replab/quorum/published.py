"""The PBS paper's published numbers, and replab's estimates beside them."""

from __future__ import annotations

import io
from importlib import resources

import pandas as pd

from replab.quorum.wars import simulate_wars
from replab.rng import SeedLike, spawn

__all__ = ["pbs_published", "compare_with_pbs"]


def pbs_published() -> pd.DataFrame:
    """Numbers printed in Bailis et al., PVLDB 2012 (N=3, R=W=1), with their source."""
    text = resources.files("replab").joinpath("data/pbs_published.csv").read_text()
    return pd.read_csv(io.StringIO(text))


def compare_with_pbs(*, trials: int = 1_000_000, seed: SeedLike = 0) -> pd.DataFrame:
    """replab's estimate (with 95 % CI) beside every published PBS number.

    Columns: ``profile, metric, published, replab, ci_low, ci_high, within_ci,
    relative_diff``. Each profile gets its own independent stream from ``seed``.
    """
    pub = pbs_published()
    profiles = list(dict.fromkeys(pub.profile))
    rows = []
    for name, rng in zip(profiles, spawn(seed, len(profiles)), strict=True):
        res = simulate_wars(3, 1, 1, name, trials=trials, seed=rng)
        st = res.staleness([0.0]).iloc[0]
        tv = res.t_visibility([0.999]).iloc[0]
        lat = res.latency_percentiles([99.9]).set_index("operation")
        ours = {
            "p_consistent_t0": (st.p_consistent, st.ci_low, st.ci_high),
            "t_visibility_999": (tv.t, tv.ci_low, tv.ci_high),
            "read_latency_999": tuple(lat.loc["read", ["latency_ms", "ci_low", "ci_high"]]),
            "write_latency_999": tuple(lat.loc["write", ["latency_ms", "ci_low", "ci_high"]]),
        }
        for row in pub[pub.profile == name].itertuples():
            est, lo, hi = (float(x) for x in ours[str(row.metric)])
            rows.append((name, row.metric, float(row.value), est, lo, hi,
                         lo <= row.value <= hi, (est - row.value) / row.value))
    return pd.DataFrame(rows, columns=["profile", "metric", "published", "replab", "ci_low",
                                       "ci_high", "within_ci", "relative_diff"])
