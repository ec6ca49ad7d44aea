"""The node base class: a process that sends and receives messages and can fail.

Subclass :class:`Node` and write one handler per message type, named after the type:
a message of class ``Append`` goes to ``on_Append(src, msg)`` (or to :meth:`on_message`
when no such handler exists). Keep state that must survive a crash in ``self.durable``
(a dict; a subclass may store anything in it); everything else is volatile and must be
reset in :meth:`on_crash` / rebuilt in :meth:`on_restart`.

Failures:

* :meth:`crash` -- the node stops; messages to it are dropped, its timers never fire,
  its volatile state is gone (``on_crash`` runs). ``durable`` is kept.
* :meth:`restart` -- it comes back (``on_restart`` runs) with a fresh incarnation.
* :meth:`pause` -- a stop-the-world stall (a GC pause): the node does nothing for a while;
  messages and timers due meanwhile are held and handled, in order, when it resumes,
  as if nothing had happened from the node's point of view.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any

from replab.sim.clocks import PhysicalClock
from replab.validate import check_float

if TYPE_CHECKING:
    from replab.sim.kernel import Handle
    from replab.sim.network import Network

__all__ = ["Node"]

NodeId = Hashable
_HANDLERS: dict[tuple[type, type], Any] = {}  # (node class, message class) -> handler
_UNKNOWN = object()


class Node:
    """A process attached to a :class:`~replab.sim.network.Network`.

    Parameters
    ----------
    network : Network
        The network to join; the node registers itself under ``node_id``.
    node_id : hashable
        The node's address (an int for replicas, a string such as ``"c3"`` for clients
        by convention).

    Attributes
    ----------
    id, network, sim : the address, the network and its simulation.
    up : bool -- False while crashed.
    paused : bool -- True during a stall.
    durable : dict -- state that survives crashes.
    clock : PhysicalClock -- the node's local clock (exact until skewed by a fault).
    incarnation : int -- bumped by every crash; timers of older incarnations never fire.
    """

    def __init__(self, network: Network, node_id: NodeId) -> None:
        self.id: Any = node_id
        self.network = network
        self.sim = network.sim
        self.up = True
        self.paused = False
        self.incarnation = 0
        self.durable: dict[str, Any] = {}
        self.clock = PhysicalClock(self.sim)
        self._held: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self._resume_at = 0.0
        network.add(self)

    # -- messages ---------------------------------------------------------------------
    def send(self, dst: NodeId, msg: Any) -> None:
        """Send ``msg`` to ``dst`` (silently nothing if this node is down or paused)."""
        if self.up and not self.paused:
            self.network.send(self.id, dst, msg)

    def broadcast(self, dsts: Iterable[NodeId], msg: Any) -> None:
        """Send ``msg`` to each of ``dsts`` (itself excluded)."""
        for dst in dsts:
            if dst != self.id:
                self.send(dst, msg)

    def deliver(self, src: NodeId, msg: Any) -> None:
        """Called by the network on arrival; dispatches to ``on_<Type>`` (held if paused)."""
        if not self.up:
            return
        if self.paused:
            self._held.append((self.deliver, (src, msg)))
            return
        key = (type(self), type(msg))
        handler = _HANDLERS.get(key, _UNKNOWN)
        if handler is _UNKNOWN:  # first message of this type for this class: look it up
            handler = _HANDLERS[key] = getattr(type(self), "on_" + type(msg).__name__, None)
        if handler is None:
            self.on_message(src, msg)
        else:
            handler(self, src, msg)

    def on_message(self, src: NodeId, msg: Any) -> None:
        """Fallback for message types without an ``on_<Type>`` handler."""
        raise TypeError(f"node {self.id!r} has no handler for {type(msg).__name__}")

    # -- timers -----------------------------------------------------------------------
    def set_timer(self, delay: float, callback: Callable[..., Any], *args: Any) -> Handle:
        """Call ``callback(*args)`` after ``delay`` unless the node crashes first."""
        return self.sim.schedule(delay, self._fire, self.incarnation, callback, args)

    def cancel_timer(self, handle: Handle | None) -> None:
        if handle is not None:
            self.sim.cancel(handle)

    def _fire(self, incarnation: int, callback: Callable[..., Any], args: tuple) -> None:
        if incarnation != self.incarnation or not self.up:
            return
        if self.paused:
            self._held.append((self._fire, (incarnation, callback, args)))
            return
        callback(*args)

    # -- failures ---------------------------------------------------------------------
    def crash(self) -> None:
        """Stop the node and lose its volatile state (``durable`` is kept)."""
        if not self.up:
            return
        self.up = False
        self.paused = False
        self._held.clear()
        self.incarnation += 1
        self.network.record("crash", self.id)
        self.on_crash()

    def restart(self) -> None:
        """Bring a crashed node back; ``on_restart`` rebuilds volatile state."""
        if self.up:
            return
        self.up = True
        self.network.record("restart", self.id)
        self.on_restart()

    def pause(self, duration_ms: float) -> None:
        """Stall for ``duration_ms`` (extends a stall already in progress)."""
        check_float(duration_ms, "duration_ms", "Node.pause", low=0.0)
        if not self.up:
            return
        end = self.sim.now + float(duration_ms)
        self.network.record("pause", self.id, end_time=end)
        if self.paused and end <= self._resume_at:
            return
        self.paused = True
        self._resume_at = end
        self.sim.schedule_at(end, self._resume, self.incarnation, end)

    def _resume(self, incarnation: int, end: float) -> None:
        if incarnation != self.incarnation or not self.paused or end != self._resume_at:
            return
        self.paused = False
        held, self._held = self._held, []
        self.on_resume()
        for fn, args in held:
            fn(*args)

    # -- hooks for subclasses ---------------------------------------------------------
    def on_crash(self) -> None:
        """Reset volatile state (called after the node went down)."""

    def on_restart(self) -> None:
        """Rebuild volatile state from ``durable`` (called when the node is back up)."""

    def on_resume(self) -> None:
        """Called at the end of a pause, before held messages and timers are handled."""

    def __repr__(self) -> str:
        state = "up" if self.up else "down"
        if self.paused:
            state = "paused"
        return f"{type(self).__name__}({self.id!r}, {state})"
