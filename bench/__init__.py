"""Benchmark tooling: the page timings (pages.py) and the seed_scale command that loads their catalog."""
