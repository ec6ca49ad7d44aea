"""Parameter sweeps: grids -> one tidy DataFrame, for every estimator and model target.

The package, one module a concern:

- ``engine``: grids, per-point seeds, batching, :func:`sweep`;
- ``executors``: serial, threads, processes, Dask (and the scheduler check);
- ``store``: the resumable on-disk results store;
- ``bounds``: a grid's size checked before it starts;
- ``settings``: a model's settings by name (shared with ``replab simulate --set``);
- ``targets`` (estimators) and ``model_targets`` (simulations, real labs): what a spec
  can sweep; ``spec``: TOML sweep specs; ``summary``: means and 95 % intervals over
  replications; ``models``: :func:`sweep_model`.

This ``__init__`` exports the engine only (which imports no model), so the models can use
:func:`sweep` themselves; import the targets, specs and summaries from their modules (the
public ones are also in the ``replab`` namespace).
"""

# the engine's public names, listed once (in replab.sweeps.engine)
from replab.sweeps.engine import *  # noqa: F403
from replab.sweeps.engine import __all__ as __all__
