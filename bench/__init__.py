"""Parley's benchmark harness: ``python -m bench <scenario> [options]`` (see ``bench.cli``).

Kept free of imports: ``bench/relay.py`` must be able to monkey-patch before anything loads.
"""
