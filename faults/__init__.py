"""Fault harness: the local stack (engine nodes on PostgreSQL, API, workers) put through outages, each ending in a
verdict. `python -m faults --size ci|full`."""
