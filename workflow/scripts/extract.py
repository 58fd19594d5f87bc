"""Rule extract: posts.parquet -> mentions.parquet (drugs, gestational age, dose, cues, evidence)."""

from perivigil.logs import log_to

log_to(snakemake.log[0])

from perivigil.extract.run import ExtractSettings, extract_posts_file, write_summary

counts = extract_posts_file(
    snakemake.input.posts,
    snakemake.input.lexicon,
    snakemake.output.mentions,
    ExtractSettings.from_section(snakemake.params.section),
)
write_summary(counts, snakemake.output.summary)
