"""The discrete-event simulator: kernel, network, nodes, faults, clocks and clients.

Models (``replab.models``) import from here; nothing here knows about replication.

>>> sim = Simulation(seed=0)
>>> net = Network(sim, delay="const:2")
>>> class Echo(Node):
...     def on_str(self, src, msg):
...         print(f"{self.sim.now:g}: {self.id} got {msg!r} from {src}")
>>> a, b = Echo(net, "a"), Echo(net, "b")
>>> a.send("b", "hello")
>>> sim.run()
2: b got 'hello' from a
"""

from replab.sim.clients import ClientPool, Request, Response, Session, Workload
from replab.sim.clocks import LamportClock, PhysicalClock, VersionVector
from replab.sim.faults import Fault, apply_faults, as_faults, random_faults
from replab.sim.kernel import Handle, Simulation
from replab.sim.network import EVENT_COLUMNS, Link, Network, as_distribution
from replab.sim.node import Node

__all__ = [
    "Simulation",
    "Handle",
    "Network",
    "Link",
    "EVENT_COLUMNS",
    "as_distribution",
    "Node",
    "Fault",
    "as_faults",
    "apply_faults",
    "random_faults",
    "PhysicalClock",
    "LamportClock",
    "VersionVector",
    "Workload",
    "ClientPool",
    "Session",
    "Request",
    "Response",
]
