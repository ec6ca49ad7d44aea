"""``ReplogConfig``: what a replication-log experiment runs."""

from __future__ import annotations

from dataclasses import dataclass

from replab.replog._base import POLICIES
from replab.replog.workload import WORKLOADS
from replab.validate import check_choice, check_float, check_int, check_prob, fail

__all__ = ["KINDS", "STORES", "SCHEMAS", "TABLES", "ReplogConfig"]

KINDS = ("statement", "statement-fixed", "physical", "logical", "trigger")
STORES = ("sqlite", "dataframe")
SCHEMAS = ("same", "newer")
TABLES = ("audit", "customers", "orders")
_PAGE_SIZES = tuple(2**k for k in range(9, 17))
_OWNER = "ReplogConfig"


def _check_page_size(value: object, name: str) -> None:
    if isinstance(value, bool) or value not in _PAGE_SIZES:
        raise fail(name, _OWNER, "a power of two in [512, 65536]", value)


@dataclass(frozen=True, kw_only=True)
class ReplogConfig:
    """One replication-log experiment on real SQLite databases.

    Parameters
    ----------
    kind : str
        The log: ``statement``, ``statement-fixed`` (nondeterministic calls in the text
        pinned by the leader), ``physical`` (WAL page images), ``logical`` (row
        changesets from the session extension) or ``trigger`` (changelog table + shipper).
    workload : str
        ``plain``, ``nondeterministic``, ``concurrent`` or ``triggers``
        (see :mod:`replab.replog.workload`).
    followers : int
        Followers that start from a copy of the leader before the first transaction.
    transactions : int
        Leader transactions.
    clients : int
        Overlapping clients in the ``concurrent`` workload (ignored otherwise).
    page_size, follower_page_size : int
        The leader's page size, and the followers' (``None``: the same).
    follower_schema : str
        ``same`` or ``newer`` (schema version 2: extra columns with defaults).
    follower_store : str
        ``sqlite``, or ``dataframe`` for a pandas follower fed by the logical log (CDC).
    lag_ms : float
        Mean replication lag (exponential): a follower applies a transaction this long
        after the leader committed it, by the follower's clock.
    join_at : float or None
        Fraction of the transactions after which one more follower is built from a
        snapshot while writes continue (``None``: no such follower).
    follower_writes : int
        Writes made directly on each follower (they conflict with the leader's).
    conflict : str
        How logical and trigger followers settle conflicts: ``leader-wins``,
        ``follower-wins`` or ``latest`` (larger ``updated_at`` wins).
    tables : str
        Comma-separated tables to replicate (logical and trigger kinds); empty: all.
    row_filter : str
        An SQL expression over a row's columns; only matching rows are replicated
        (trigger kind), e.g. ``"region = 'eu'"``.
    """

    kind: str = "logical"
    workload: str = "plain"
    followers: int = 2
    transactions: int = 200
    clients: int = 4
    page_size: int = 4096
    follower_page_size: int | None = None
    follower_schema: str = "same"
    follower_store: str = "sqlite"
    lag_ms: float = 5.0
    join_at: float | None = 0.5
    follower_writes: int = 0
    conflict: str = "leader-wins"
    tables: str = ""
    row_filter: str = ""

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", _OWNER, KINDS)
        check_choice(self.workload, "workload", _OWNER, WORKLOADS)
        check_int(self.followers, "followers", _OWNER, low=1, high=16)
        check_int(self.transactions, "transactions", _OWNER, low=1, high=100_000)
        check_int(self.clients, "clients", _OWNER, low=1, high=64)
        _check_page_size(self.page_size, "page_size")
        if self.follower_page_size is not None:
            _check_page_size(self.follower_page_size, "follower_page_size")
        check_choice(self.follower_schema, "follower_schema", _OWNER, SCHEMAS)
        check_choice(self.follower_store, "follower_store", _OWNER, STORES)
        check_float(self.lag_ms, "lag_ms", _OWNER, low=0.0)
        if self.join_at is not None:
            check_prob(self.join_at, "join_at", _OWNER)
        check_int(self.follower_writes, "follower_writes", _OWNER, low=0, high=100_000)
        check_choice(self.conflict, "conflict", _OWNER, POLICIES)
        for table in self.table_list:
            check_choice(table, "tables", _OWNER, TABLES)
        self._check_combinations()

    def _check_combinations(self) -> None:
        """Settings that only make sense for some kinds of log."""
        where = f"when kind={self.kind!r}"
        if self.kind == "physical" and self.follower_schema != "same":
            raise fail("follower_schema", _OWNER, f"'same' {where}", self.follower_schema)
        if self.follower_store == "dataframe" and self.kind != "logical":
            raise fail("follower_store", _OWNER, f"'sqlite' {where}", self.follower_store)
        if self.follower_store == "dataframe" and self.follower_schema != "same":
            raise fail("follower_schema", _OWNER, "'same' when follower_store='dataframe'",
                       self.follower_schema)
        read_only = self.kind == "physical" or self.follower_store == "dataframe"
        if read_only and self.follower_writes:
            raise fail("follower_writes", _OWNER, "0 for a read-only follower "
                       f"(kind={self.kind!r}, follower_store={self.follower_store!r})",
                       self.follower_writes)
        if self.tables and self.kind not in ("logical", "trigger"):
            raise fail("tables", _OWNER, f"'' (all tables) {where}", self.tables)
        if self.row_filter and self.kind != "trigger":
            raise fail("row_filter", _OWNER, f"'' (no filter) {where}", self.row_filter)

    @property
    def table_list(self) -> tuple[str, ...]:
        """``tables`` split on commas (empty: all tables)."""
        return tuple(t.strip() for t in self.tables.split(",") if t.strip())
