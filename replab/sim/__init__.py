"""The discrete-event simulator: kernel, network, nodes, faults, clocks and clients.

Models (``replab.models``) import from here; nothing here knows about replication.
"""

from replab.sim.kernel import Handle, Simulation

__all__ = ["Simulation", "Handle"]
