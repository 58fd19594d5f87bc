"""Rule gold: unanimous, single and adjudicated labels with their provenance; undecided ones listed."""
from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.annotation.run import make_gold

make_gold(snakemake.input.annotations, snakemake.input.adjudicated, snakemake.input.sample, snakemake.params.section,
          snakemake.output.gold, snakemake.output.undecided)
