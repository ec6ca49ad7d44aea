"""Replication-log costs on real SQLite, as ratios measured in one process.

For one workload, prints per log kind:

* leader time per write (capture included) against the same transactions executed with
  no capture at all (the baseline), and the trigger-based log against the logical one;
* follower apply rate (writes per second) against statement replay;
* bytes shipped and leader WAL bytes per write (deterministic).

Each measurement is the best of ``--repeat`` rounds, run interleaved so that machine load
hits every kind alike.

Usage: python benchmarks/replog.py [--transactions N] [--workload W] [--repeat K]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import apsw
import numpy as np

from replab.replog._node import Node
from replab.replog.config import ReplogConfig
from replab.replog.simulate import replicator_for
from replab.replog.snapshot import Snapshot
from replab.replog.workload import Txn, make_workload, schema_sql

KINDS = ("none", "statement", "physical", "logical", "trigger")


def one_round(kind: str, txns: list[Txn], workload: str) -> dict[str, Any]:
    """Commit ``txns`` on a fresh leader with ``kind``'s capture; apply them to a follower."""
    with tempfile.TemporaryDirectory() as d:
        leader = Node(Path(d) / "leader.db", name="leader", rng=np.random.default_rng(1))
        leader.execute(schema_sql(workload))
        rep = replicator_for(ReplogConfig(kind="statement" if kind == "none" else kind))
        rep.prepare(leader)
        leader.conn.wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_TRUNCATE)
        path = Snapshot(leader.path, Path(d) / "f.db", lsn=0,
                        method="pages" if kind == "physical" else "backup").finish()
        follower = rep.follower(path, name="f", rng=np.random.default_rng(2))
        t0 = time.perf_counter()
        if kind == "none":
            for txn in txns:
                with leader.conn:
                    for sql in txn.statements:
                        leader.execute(sql)
            records = []
        else:
            records = [rep.commit(leader, txn, i) for i, txn in enumerate(txns, 1)]
        commit = time.perf_counter() - t0
        t0 = time.perf_counter()
        for record in records:
            follower.apply(record)
        apply = time.perf_counter() - t0
        wal = Path(str(leader.path) + "-wal")
        out = {"commit": commit, "apply": apply, "bytes": sum(r.nbytes for r in records),
               "wal": wal.stat().st_size if wal.exists() else 0}
        follower.close()
        leader.close()
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transactions", type=int, default=2000)
    ap.add_argument("--workload", default="plain", choices=("plain", "nondeterministic",
                                                            "concurrent", "triggers"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    txns = make_workload(args.workload, args.transactions, clients=4,
                         rng=np.random.default_rng(0))
    writes = sum(len(t.statements) for t in txns)
    best: dict[str, dict[str, Any]] = {}
    for _ in range(args.repeat):
        for kind in KINDS:
            r = one_round(kind, txns, args.workload)
            b = best.setdefault(kind, dict(r))
            b["commit"], b["apply"] = min(b["commit"], r["commit"]), min(b["apply"], r["apply"])
    base, replay = best["none"]["commit"], best["statement"]["apply"]
    print(f"{args.transactions} transactions ({writes} writes) of the {args.workload!r} "
          f"workload, best of {args.repeat}")
    print(f"{'kind':<10} {'leader us/write':>16} {'x no capture':>13} {'applied writes/s':>17} "
          f"{'x statement':>12} {'bytes/write':>12} {'leader WAL B/write':>19}")
    for kind in KINDS:
        b = best[kind]
        rate = writes / b["apply"] if kind != "none" and b["apply"] else float("nan")
        print(f"{kind:<10} {1e6 * b['commit'] / writes:16.1f} {b['commit'] / base:13.2f} "
              f"{rate:17,.0f} {replay / b['apply'] if kind != 'none' else float('nan'):12.2f} "
              f"{b['bytes'] / writes:12.1f} {b['wal'] / writes:19.1f}")
    t, lg = best["trigger"], best["logical"]
    print(f"\ntrigger-based vs logical: leader time x{t['commit'] / lg['commit']:.2f}, "
          f"apply time x{t['apply'] / lg['apply']:.2f}, bytes shipped x"
          f"{t['bytes'] / lg['bytes']:.2f}, leader WAL bytes x{t['wal'] / lg['wal']:.2f}")


if __name__ == "__main__":
    main()
