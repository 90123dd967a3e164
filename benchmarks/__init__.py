"""Benchmarks: ``python benchmarks/run.py`` (or ``python -m benchmarks.run``) times micrograd
against hand-written NumPy, JAX and PyTorch on the same work, in one process."""
