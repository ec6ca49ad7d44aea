"""``replab.sweep``: the public entry point of parameter sweeps (kept for scripts).

Everything lives in :mod:`replab.sweeps`; ``from replab.sweep import sweep, dask_client``
keeps working.
"""

# the engine's public names, listed once (in replab.sweeps.engine)
from replab.sweeps.engine import *  # noqa: F403
from replab.sweeps.engine import __all__ as __all__
