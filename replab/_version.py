"""The package version, in a module of its own so that code inside replab can read it
without importing the whole package (no circle through ``replab/__init__.py``)."""

__version__ = "0.1.0"
