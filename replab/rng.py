"""Seed handling: every stochastic entry point takes ``seed`` and calls into here.

No global random state is read or written anywhere in replab.
"""

from __future__ import annotations

import numbers

import numpy as np

from replab.errors import ConfigError

__all__ = ["SeedLike", "as_generator", "spawn", "spawn_seeds"]

SeedLike = int | np.random.Generator | np.random.SeedSequence | None


def _check_seed(seed: object) -> None:
    if seed is None or isinstance(seed, np.random.Generator | np.random.SeedSequence):
        return
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise ConfigError(
            "The 'seed' parameter must be None, a non-negative int, a SeedSequence "
            f"or a numpy Generator. Got {seed!r} instead."
        )


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a Generator for ``seed`` (a Generator is returned as is)."""
    _check_seed(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def spawn_seeds(seed: SeedLike, k: int) -> list[np.random.SeedSequence]:
    """``k`` independent SeedSequences derived from ``seed``.

    A Generator is consumed once (one draw) to derive the root; an int or None
    becomes the root SeedSequence directly, so ``spawn_seeds(7, k)`` is stable. A
    SeedSequence gives the same children every time (``SeedSequence.spawn`` would give
    new ones on each call), so the same seed object always means the same run.

    >>> s = np.random.SeedSequence(5)
    >>> [c.spawn_key for c in spawn_seeds(s, 2)] == [c.spawn_key for c in spawn_seeds(s, 2)]
    True
    """
    _check_seed(seed)
    if isinstance(seed, np.random.SeedSequence):
        root = seed
    elif isinstance(seed, np.random.Generator):
        root = np.random.SeedSequence(int(seed.integers(0, 2**63)))
    else:
        root = np.random.SeedSequence(seed)
    return [np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, i),
                                   pool_size=root.pool_size) for i in range(k)]


def spawn(seed: SeedLike, k: int) -> list[np.random.Generator]:
    """``k`` independent Generators derived from ``seed``."""
    return [np.random.default_rng(s) for s in spawn_seeds(seed, k)]
