"""Regenerate ``data/patroni/*.csv``: repeated real failovers with Patroni.

Runs :func:`replab.real.patroni.sweeps.pause_sweep` (the leader frozen for pauses below and
above ttl = 20 s, async) and :func:`~replab.real.patroni.sweeps.mode_sweep` (a pause just
over ttl in async and sync mode) on one 3-node cluster, one row a run, and the
single-leader simulator at the same settings. Notebook 10 reads these files unless told to
measure again. About 40 s a run: the default sizes take about 20 minutes.

    python data/measure_patroni.py                          # -> data/patroni/
    python data/measure_patroni.py --repeats 1 --pauses 10 22 --out /tmp/mine
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from replab.real.patroni import PatroniCluster, PatroniConfig
from replab.real.patroni.sweeps import mode_sweep, model_beside, pause_sweep

HERE = Path(__file__).resolve().parent / "patroni"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pauses", type=float, nargs="+", default=[10.0, 18.0, 20.0, 22.0, 26.0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = PatroniConfig(fault_at_s=2.0)
    t0 = time.monotonic()
    with PatroniCluster(base.nodes, ttl=base.ttl, loop_wait=base.loop_wait,
                        retry_timeout=base.retry_timeout) as cluster:
        pauses = pause_sweep(args.pauses, repeats=args.repeats, seed=args.seed, base=base,
                             cluster=cluster)
        pauses.to_csv(args.out / "pause_sweep.csv", index=False)
        modes = mode_sweep(("async", "sync"), pause_s=22.0, repeats=args.repeats,
                           seed=args.seed, base=base, cluster=cluster)
        modes.to_csv(args.out / "mode_sweep.csv", index=False)
    settings = pd.concat([pauses, modes])[["mode", "ttl", "pause_s"]].drop_duplicates()
    model_beside(settings, repeats=args.repeats, seed=args.seed, base=base).to_csv(
        args.out / "model.csv", index=False)
    print(f"measured in {time.monotonic() - t0:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
