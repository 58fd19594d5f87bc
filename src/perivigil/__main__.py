"""``python -m perivigil`` runs the command line."""

from perivigil.cli import main

raise SystemExit(main())
