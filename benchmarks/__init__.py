"""Benchmarks of the real stack against the engine floor (``priorauth bench``)."""
