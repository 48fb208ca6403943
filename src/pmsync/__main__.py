"""``python -m pmsync`` runs the command line."""

from pmsync.cli import main

main(prog_name="pmsync")
