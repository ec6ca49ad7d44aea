"""Replication models: protocols built on the simulator, and their pure building blocks."""
