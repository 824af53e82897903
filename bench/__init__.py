"""Benchmarks: the sync engine against the seed's naive algorithm, on the emulator (``make bench``)."""
