"""``python -m sim`` is the ``basing`` command."""

from sim.cli import main

main()
