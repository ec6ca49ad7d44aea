"""Latency distributions and WARS latency models.

Every distribution draws with ``sample(rng, shape)`` from an explicit
``numpy.random.Generator`` and returns milliseconds as a float64 array.

A short text spec names a distribution on the command line:

==========================  ==============================================
``const:5``                 always 5 ms
``exp:0.1``                 exponential with rate 0.1 per ms (mean 10 ms)
``pareto:0.235,10``         Pareto(xm, alpha): ``xm / U**(1/alpha)``
``lognormal:1.0,0.5``       exp(N(mu, sigma)) ms
``uniform:1,3``             uniform on [1, 3) ms
``empirical:PATH.csv``      resampled from observed latencies
``5+exp:0.1``               shifted: 5 ms plus an exponential
``0.9*exp:1|0.1*const:50``  mixture: weights then ``*``, joined by ``|``
``LNKD-SSD``                a named profile (all four WARS delays)
==========================  ==============================================
"""

from replab.latency.distributions import (
    Constant,
    Distribution,
    Empirical,
    Exponential,
    LogNormal,
    Mixture,
    Pareto,
    Shifted,
    Uniform,
)
from replab.latency.profiles import as_wars, profile, profile_info
from replab.latency.spec import parse_spec
from replab.latency.table import profile_names
from replab.latency.wars import WanLatency, WarsLatency

__all__ = [
    "Distribution",
    "Constant",
    "Exponential",
    "Pareto",
    "LogNormal",
    "Uniform",
    "Mixture",
    "Shifted",
    "Empirical",
    "WarsLatency",
    "WanLatency",
    "parse_spec",
    "profile",
    "profile_names",
    "profile_info",
    "as_wars",
]
