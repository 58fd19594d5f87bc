"""Rule provenance: results/provenance.json (git commit, config hash, input and output SHA-256, versions, time)."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.provenance import write_provenance

write_provenance(
    snakemake.params.config,
    snakemake.params.config_files,
    snakemake.input.sources,
    snakemake.params.rules,
    snakemake.output[0],
)
