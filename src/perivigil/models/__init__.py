"""Models of the study: the expert rule system, linear baselines, their evaluation and application."""

# The two situations of study protocol §1, in the order of every table.
LABELS = ("iso_t1", "nsaid_late")
