"""Regenerate ``data/example_latencies.csv``: real write-acknowledgement latencies.

A "replica" process listens on 127.0.0.1; for every request it appends 64 bytes to a log
file in a temporary folder and calls ``fsync`` before it answers, as a replica does before
it acknowledges a write. The client times each request from send to answer (ms, wall
clock), so the numbers hold the loopback network, the scheduler and the disk flush, with
the tail of a real machine.

    python data/measure_latencies.py                 # 2000 samples -> data/example_latencies.csv
    python data/measure_latencies.py --samples 500 --out /tmp/mine.csv
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
from multiprocessing import Process
from pathlib import Path

RECORD = b"x" * 63 + b"\n"


def replica(listener: socket.socket, log_path: str) -> None:
    conn, _ = listener.accept()
    with conn, open(log_path, "ab", buffering=0) as log:
        while conn.recv(len(RECORD)):
            log.write(RECORD)
            os.fsync(log.fileno())  # acknowledge only what is on disk
            conn.sendall(b"k")


def measure(samples: int, disk: Path) -> list[float]:
    listener = socket.create_server(("127.0.0.1", 0))
    # On the disk of ``disk``, not in /tmp: /tmp is often RAM, where fsync costs nothing.
    with tempfile.TemporaryDirectory(dir=disk) as tmp:
        server = Process(target=replica, args=(listener, str(Path(tmp) / "log")), daemon=True)
        server.start()
        out = []
        with socket.create_connection(listener.getsockname(), timeout=10) as client:
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(samples):
                start = time.perf_counter()
                client.sendall(RECORD)
                client.recv(1)
                out.append((time.perf_counter() - start) * 1000)
        server.join(timeout=10)
    listener.close()
    return out


def main() -> None:
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=2000)
    p.add_argument("--out", type=Path, default=here / "example_latencies.csv")
    args = p.parse_args()
    values = measure(args.samples, args.out.resolve().parent)
    args.out.write_text("ack_ms\n" + "".join(f"{v:.4f}\n" for v in values))
    print(f"wrote {len(values)} latencies to {args.out}")


if __name__ == "__main__":
    main()
