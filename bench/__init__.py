"""Tushu's benchmark suite: ``python -m bench`` (see docs/performance.md).

Every figure is measured beside its floor in the same process and run (the time it takes
just to decode the imagery involved once), so ratios stay meaningful on a busy machine. Never
imported by the pipeline or the tests' timing: speed is never asserted in a test.
"""
