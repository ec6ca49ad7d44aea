"""Workloads for the MariaDB lab: the SQL a client sends, a deterministic function of the seed.

``nondeterministic`` (a small shop, as in :mod:`replab.replog.workload`): an order is one
transaction that inserts the row, then sets each nondeterministic column in its own
statement, so a divergent column names the function that broke the statement log and the
server's unsafe-statement warnings can be read per function:

================= ===================== =============================================
source            where it lands        what the statement log does with it
================= ===================== =============================================
``NOW(6)``        ``orders.created_at`` the event carries the primary's timestamp
``SYSDATE(6)``    ``orders.entered_at`` evaluated again by the replica, later
``RAND()``        ``orders.token``      the event carries the primary's RAND seeds
``UUID()``        ``orders.ref``        evaluated again by the replica
``CONNECTION_ID()`` ``orders.session``  the replica runs as the primary's thread id
AUTO_INCREMENT    ``orders.id``         the event carries INSERT_ID
trigger           ``audit.ref``, ``audit.at`` the trigger runs again on the replica
================= ===================== =============================================

``counters``: registers ``k0 ...`` with a counter ``n = n + 1`` (commutes, so statement
replay on two leaders converges; row images do not), a last-writer value ``v`` (the
client's unique write, what the history records) and an append-only ``events`` table
whose AUTO_INCREMENT key collides between leaders unless
``auto_increment_increment/offset`` give each server its own residue class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["WORKLOADS", "FUNCTION_COLUMNS", "Txn", "schema_sql", "next_txn", "TABLE_KEYS",
           "statement_shape"]

WORKLOADS = ("nondeterministic", "counters")
CUSTOMERS = 20
# (source, table, column, statement shape) for the per-function table; the shape is the
# statement with its literals replaced by ``?`` (see ``statement_shape``).
FUNCTION_COLUMNS = (
    ("NOW()", "orders", "created_at", "INSERT INTO orders (customer, amount, created_at) "
                                      "VALUES (?, ?, NOW(6))"),
    ("AUTO_INCREMENT", "orders", "id", "INSERT INTO orders (customer, amount, created_at) "
                                       "VALUES (?, ?, NOW(6))"),
    ("SYSDATE()", "orders", "entered_at", "UPDATE orders SET entered_at = SYSDATE(6) "
                                          "WHERE id = LAST_INSERT_ID()"),
    ("RAND()", "orders", "token", "UPDATE orders SET token = RAND() WHERE id = LAST_INSERT_ID()"),
    ("UUID()", "orders", "ref", "UPDATE orders SET ref = UUID() WHERE id = LAST_INSERT_ID()"),
    ("CONNECTION_ID()", "orders", "session", "UPDATE orders SET session = CONNECTION_ID() "
                                             "WHERE id = LAST_INSERT_ID()"),
    ("RAND() in WHERE", "customers", "balance", "UPDATE customers SET balance = balance + ? "
                                                "WHERE id = FLOOR(? + RAND() * ?)"),
    ("NOW() in UPDATE", "customers", "updated_at", "UPDATE customers SET balance = balance + ?, "
                                                   "updated_at = NOW(6) WHERE id = ?"),
    ("trigger: UUID()", "audit", "ref", "INSERT INTO orders (customer, amount, created_at) "
                                        "VALUES (?, ?, NOW(6))"),
    ("trigger: NOW()", "audit", "at", "INSERT INTO orders (customer, amount, created_at) "
                                      "VALUES (?, ?, NOW(6))"),
)
_LITERAL = re.compile(r"'[^']*'|\b\d+(?:\.\d+)?\b")


def statement_shape(sql: str) -> str:
    """``sql`` with its string and number literals replaced by ``?``.

    Examples
    --------
    >>> statement_shape("UPDATE customers SET balance = balance + 12.5 WHERE id = 3")
    'UPDATE customers SET balance = balance + ? WHERE id = ?'
    """
    return _LITERAL.sub("?", sql)


# The primary key of every table the lab compares between servers.
TABLE_KEYS = {
    "nondeterministic": {"customers": "id", "orders": "id", "audit": "id"},
    "counters": {"counters": "k", "events": "id"},
}

_SHOP = [
    "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, "
    "balance DECIMAL(12,2) NOT NULL DEFAULT 0, updated_at DATETIME(6)) ENGINE=InnoDB",
    "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer INT NOT NULL, "
    "amount DECIMAL(10,2) NOT NULL, token DOUBLE, ref CHAR(36), session BIGINT, "
    "created_at DATETIME(6), entered_at DATETIME(6)) ENGINE=InnoDB",
    "CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT, ref CHAR(36), "
    "at DATETIME(6)) ENGINE=InnoDB",
    "CREATE TRIGGER order_audit AFTER INSERT ON orders FOR EACH ROW "
    "INSERT INTO audit (order_id, ref, at) VALUES (NEW.id, UUID(), NOW(6))",
]
_COUNTERS = [
    "CREATE TABLE counters (k VARCHAR(16) PRIMARY KEY, n BIGINT NOT NULL DEFAULT 0, "
    "v BIGINT, writer INT) ENGINE=InnoDB",
    "CREATE TABLE events (id INT AUTO_INCREMENT PRIMARY KEY, origin INT NOT NULL, "
    "seq INT NOT NULL, k VARCHAR(16) NOT NULL, UNIQUE KEY (origin, seq)) ENGINE=InnoDB",
]


@dataclass(frozen=True)
class Txn:
    """One client transaction: its statements and what the history records of it.

    ``key`` and ``value`` are the history's: the counter key and the unique value written
    (``counters``), or the table touched and the transaction number (``nondeterministic``).
    """

    id: int
    client: int
    statements: tuple[str, ...]
    key: str
    value: int


def schema_sql(workload: str, keys: int) -> list[str]:
    """The statements that create ``workload``'s tables and initial rows."""
    if workload == "nondeterministic":
        rows = ", ".join(f"({i}, 'customer {i}', 100.00, '2024-01-01 00:00:00')"
                         for i in range(1, CUSTOMERS + 1))
        return [*_SHOP, f"INSERT INTO customers VALUES {rows}"]
    rows = ", ".join(f"('k{i}', 0, NULL, NULL)" for i in range(keys))
    return [*_COUNTERS, f"INSERT INTO counters VALUES {rows}"]


def _shop_txn(i: int, client: int, rng: np.random.Generator) -> Txn:
    c = int(rng.integers(1, CUSTOMERS + 1))
    amount = float(round(rng.uniform(1.0, 200.0), 2))
    pick = float(rng.random())
    if pick < 0.6:
        this = "WHERE id = LAST_INSERT_ID()"
        return Txn(i, client, (
            f"INSERT INTO orders (customer, amount, created_at) VALUES ({c}, {amount}, NOW(6))",
            f"UPDATE orders SET token = RAND() {this}",
            f"UPDATE orders SET ref = UUID() {this}",
            f"UPDATE orders SET session = CONNECTION_ID() {this}",
            f"UPDATE orders SET entered_at = SYSDATE(6) {this}",
        ), "orders", i)
    if pick < 0.8:
        sql = (f"UPDATE customers SET balance = balance + {amount}, updated_at = NOW(6) "
               f"WHERE id = {c}")
        return Txn(i, client, (sql,), f"customers/{c}", i)
    if pick < 0.9:
        sql = ("UPDATE customers SET balance = balance + 1 "
               f"WHERE id = FLOOR(1 + RAND() * {CUSTOMERS})")
        return Txn(i, client, (sql,), "customers", i)
    sql = f"DELETE FROM orders WHERE customer = {c} ORDER BY id LIMIT 1"
    return Txn(i, client, (sql,), "orders", i)


def _counter_txn(i: int, client: int, origin: int, keys: int, rng: np.random.Generator
                 ) -> Txn:
    key = f"k{int(rng.integers(0, keys))}"
    # Literal values only: @@server_id would be evaluated again by every replica.
    return Txn(i, client, (
        f"UPDATE counters SET n = n + 1, v = {i}, writer = {origin} WHERE k = '{key}'",
        f"INSERT INTO events (origin, seq, k) VALUES ({origin}, {i}, '{key}')",
    ), key, i)


def next_txn(workload: str, i: int, *, clients: int, origin_of: list[int], keys: int,
             rng: np.random.Generator) -> Txn:
    """The ``i``-th transaction: a client drawn from the seed, its statements."""
    client = int(rng.integers(0, clients))
    if workload == "nondeterministic":
        return _shop_txn(i, client, rng)
    return _counter_txn(i, client, origin_of[client], keys, rng)
