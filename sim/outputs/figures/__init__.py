"""Plotly figures, from tables only: ``tables`` computes them from runs and traces; ``outcomes`` draws
outcome distributions (one scenario or several), ``sweeps`` a sweep's, ``timeline`` one replayed run's.
Every string from a scenario reaches a figure through ``sim.outputs.escape.esc``."""
