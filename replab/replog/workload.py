"""Workloads for the replication-log experiments: SQL text a client sends to the leader.

Every workload is a deterministic function of its seed. The schema is a small shop:
``customers`` (explicit integer keys), ``orders`` (AUTOINCREMENT keys assigned by the
database) and ``audit`` (filled by a trigger in the ``triggers`` workload).

========== ==============================================================================
workload   hazard it exercises
========== ==============================================================================
plain      none: literal values only, but statements that read existing data
           (``DELETE ... WHERE id = (SELECT min(id) ...)``) need the same order everywhere
nondeterministic  ``random()`` and the current time in statements, a row picked at random
concurrent several clients whose transactions overlap; keys come from AUTOINCREMENT, so a
           replica applying them in another (per-client) order numbers rows differently
triggers   a trigger and a user function (``ticket()``) with nondeterministic effects
           that do not appear in the statement text
========== ==============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "WORKLOADS",
    "CUSTOMERS",
    "Txn",
    "schema_sql",
    "migration_sql",
    "make_workload",
    "follower_write",
    "TIME_FMT",
]

WORKLOADS = ("plain", "nondeterministic", "concurrent", "triggers")
CUSTOMERS = 20  # rows of ``customers`` present before the first transaction
TIME_FMT = "%Y-%m-%d %H:%M:%f"
_NOW = f"strftime('{TIME_FMT}', 'now')"
_REGIONS = ("eu", "us", "apac")

_TABLES = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance REAL NOT NULL DEFAULT 0,
    region TEXT NOT NULL, updated_at TEXT
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT, customer INTEGER NOT NULL, amount REAL NOT NULL,
    token INTEGER, created_at TEXT
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER, token INTEGER, at TEXT
);
"""

_AUDIT_TRIGGER = f"""
CREATE TRIGGER order_audit AFTER INSERT ON orders BEGIN
    INSERT INTO audit (order_id, token, at) VALUES (NEW.id, random(), {_NOW});
END;
"""


@dataclass(frozen=True)
class Txn:
    """One client transaction: who sent it, in which round, and its statements."""

    client: int
    round: int
    statements: tuple[str, ...]


def _seed_rows() -> str:
    rows = ", ".join(
        f"({i}, 'customer {i}', 100.0, '{_REGIONS[i % 3]}', '2024-01-01 00:00:00.000')"
        for i in range(1, CUSTOMERS + 1)
    )
    return f"INSERT INTO customers (id, name, balance, region, updated_at) VALUES {rows};"


def schema_sql(workload: str) -> str:
    """The leader's schema and initial rows for ``workload``."""
    trigger = _AUDIT_TRIGGER if workload == "triggers" else ""
    return _TABLES + trigger + _seed_rows()


class _Writer:
    """Draws the statements; tracks only what the client itself knows (customer ids)."""

    def __init__(self, workload: str, rng: np.random.Generator) -> None:
        self.workload = workload
        self.rng = rng
        self.customers = CUSTOMERS

    def customer(self) -> int:
        return int(self.rng.integers(1, self.customers + 1))

    def amount(self) -> float:
        return float(round(self.rng.uniform(1.0, 200.0), 2))

    def stamp(self, i: int) -> str:
        return f"'2024-01-01 00:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}'"

    def statement(self, i: int) -> str:
        """The ``i``-th statement of a plain / nondeterministic / triggers workload."""
        c, a, pick = self.customer(), self.amount(), float(self.rng.random())
        nondet = self.workload == "nondeterministic"
        at = _NOW if nondet else self.stamp(i)
        if pick < 0.4:
            token = {"nondeterministic": "random()", "triggers": "ticket()"}.get(
                self.workload, str(i)
            )
            return ("INSERT INTO orders (customer, amount, token, created_at) "
                    f"VALUES ({c}, {a}, {token}, {at})")
        if pick < 0.65:
            at = "CURRENT_TIMESTAMP" if nondet and pick < 0.5 else at
            return (f"UPDATE customers SET balance = balance + {a}, updated_at = {at} "
                    f"WHERE id = {c}")
        if pick < 0.75:
            return ("DELETE FROM orders WHERE id = "
                    f"(SELECT min(id) FROM orders WHERE customer = {c})")
        if pick < 0.85 and nondet:
            return ("UPDATE customers SET balance = balance + 1 "
                    f"WHERE id = abs(random()) % {CUSTOMERS} + 1")
        if pick < 0.85:
            return f"UPDATE orders SET amount = round(amount * 1.1, 2) WHERE customer = {c}"
        self.customers += 1
        k = self.customers
        return ("INSERT INTO customers (id, name, balance, region) "
                f"VALUES ({k}, 'customer {k}', 0.0, '{_REGIONS[k % 3]}')")


def _concurrent(transactions: int, clients: int, rng: np.random.Generator) -> list[Txn]:
    """Rounds of ``clients`` overlapping transactions, committed in a shuffled order."""
    out: list[Txn] = []
    rounds = -(-transactions // clients)
    for r in range(rounds):
        order = rng.permutation(clients)
        for c in order[: transactions - len(out)]:
            a = float(round(rng.uniform(1.0, 200.0), 2))
            cust = int(c) + 1  # each client owns one customer: no row-level conflicts
            out.append(Txn(int(c), r, (
                f"INSERT INTO orders (customer, amount) VALUES ({cust}, {a})",
                f"UPDATE customers SET balance = balance + {a} WHERE id = {cust}",
            )))
    return out


def make_workload(
    workload: str, transactions: int, *, clients: int, rng: np.random.Generator
) -> list[Txn]:
    """The transactions of ``workload`` (1 to 3 statements each, or 2 when concurrent)."""
    if workload == "concurrent":
        return _concurrent(transactions, clients, rng)
    writer = _Writer(workload, rng)
    out, i = [], 0
    for t in range(transactions):
        n = int(rng.integers(1, 4))
        out.append(Txn(0, t, tuple(writer.statement(i + j) for j in range(n))))
        i += n
    return out


def follower_write(rng: np.random.Generator) -> str:
    """A write made directly on a follower (it conflicts with the leader's later updates)."""
    c = int(rng.integers(1, CUSTOMERS + 1))
    a = float(round(rng.uniform(1.0, 50.0), 2))
    return f"UPDATE customers SET balance = balance - {a}, updated_at = {_NOW} WHERE id = {c}"


def migration_sql() -> str:
    """Schema version 2: extra columns with defaults, as a rolling upgrade adds them."""
    return (
        "ALTER TABLE customers ADD COLUMN tier TEXT NOT NULL DEFAULT 'standard';\n"
        "ALTER TABLE orders ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR';\n"
    )
