"""Benchmarks of the local stack, every figure measured side by side in one run: `python -m bench`."""
