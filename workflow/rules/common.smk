# Helpers of the workflow: configuration check, the package on the path, input functions.
import sys
from pathlib import Path

# The package is installed in .venv by `make` (and in conda envs by pip);
# src/ on the path lets the workflow check its config even outside them.
SRC = str(Path(workflow.basedir) / "src")
if SRC not in sys.path:
    sys.path.insert(0, SRC)

from perivigil.config import validate_config

# Stops the run before any job, with the key's name: a wrong key, type or threshold, a broken
# site profile, a misplaced annotation inbox, a real study without its pseudonymisation key.
validate_config(
    config,
    Path(workflow.basedir) / "workflow/schemas/config.schema.yaml",
    origin="config (config/config.yaml and any --configfile/--config)",
    check_secrets=True,
)

SOURCES = {source["name"]: source for source in config["sources"]}

from perivigil.codebase import script_digest as _script_digest


def code(script):
    """The digest of the package code a workflow script runs, for the rule's ``code`` parameter:
    an edit of a module the script imports changes it, so Snakemake reruns the rule (and its
    descendants, whose inputs become newer); an edit elsewhere in the package does not."""
    return _script_digest(Path(workflow.basedir) / "workflow/scripts" / script, Path(SRC))


def keys(section, *names):
    """The named keys of one config section, and nothing else: a rule's parameters are what its
    code reads, so that changing another key of the section does not rerun it."""
    return {name: config[section][name] for name in names if name in config[section]}


from perivigil.collect import shards as _shards


def sources_of(kind):
    """Names of the configured sources of one kind (forum, reddit_dump, bluesky, jsonl)."""
    return [name for name, source in SOURCES.items() if source.get("type", "forum") == kind]


def _any_of(names):
    """A wildcard pattern matching exactly these names (none: a pattern matching nothing)."""
    return "|".join(names) if names else "(?!x)x"


# Every shard's raw file and collection report, sources in config order (preprocessing reads them so).
RAW_SHARDS = [_shards.raw_path(source, shard) for source in SOURCES.values() for shard in _shards.shards(source)]
COLLECTION_REPORTS = [
    _shards.report_path(source, shard) for source in SOURCES.values() for shard in _shards.shards(source)
]


from perivigil.models import LABELS
from perivigil.study import inbox_files, study_stage

# Where a real study stands between its human steps (the demo is always complete).
STAGE = study_stage(config)


# What each stage notebook (notebooks/<stage>.py) reads: tables and the figures it shows.
NOTEBOOK_INPUTS = {
    "corpus": {
        "posts": "results/corpus/posts.parquet",
        "report": "results/corpus/collection_report.csv",
        "summary": "results/corpus/preprocess_summary.json",
        "figure": "results/figures/corpus_by_board_month.png",
    },
    "agreement": {
        "agreement": "results/agreement/agreement.json",
        "disagreements": "results/agreement/disagreements.csv",
        "alpha": "results/figures/agreement_alpha.png",
        "kappa": "results/figures/agreement_kappa.png",
    },
    "models": {
        "metrics": "results/tables/metrics.csv",
        "comparisons": "results/tables/comparisons.csv",
        "split": "results/splits/split.csv",
        "errors": "results/tables/error_analysis.csv",
        "calibration": "results/figures/calibration.png",
        "learning": "results/figures/learning_curve.png",
    },
    "prevalence": {
        "prevalence": "results/tables/prevalence.csv",
        "drugs": "results/tables/characterisation_drugs.csv",
        "ages": "results/tables/characterisation_gestational_age.csv",
        "people": "results/tables/characterisation_person.csv",
        "indications": "results/tables/characterisation_indication.csv",
    },
}


wildcard_constraints:
    source="|".join(SOURCES),
    model="|".join(config["models"]["linear"]),
    label="|".join(LABELS),
    stage="|".join(NOTEBOOK_INPUTS),


def source_config(wildcards):
    """The configuration entry of the source being collected."""
    return SOURCES[wildcards.source]


def reddit_dump_inputs(wildcards):
    """The dump file of a Reddit source's shard (and the lexicon, when the source keeps only its hits)."""
    source = SOURCES[wildcards.source]
    inputs = {"dump": _shards.dump_of(source, wildcards.dump)}
    if source.get("lexicon_filter", False):
        inputs["lexicon"] = "results/lexicon/lexicon.parquet"
    return inputs


def jsonl_export_input(wildcards):
    """The export file of a JSONL source's shard."""
    return _shards.export_of(SOURCES[wildcards.source], wildcards.shard)


def collect_inputs(wildcards):
    """A source's profile, and its snapshot manifest when it is read from disk."""
    source = SOURCES[wildcards.source]
    inputs = {"profile": source["profile"]}
    if "snapshot_manifest" in source:
        inputs["snapshot"] = source["snapshot_manifest"]
    return inputs


def lexicon_input(key, name=None):
    """A file named by the config's ``lexicon`` section (inside its folder when ``name`` is given)."""
    path = Path(config["lexicon"][key])
    return str(path / name) if name else str(path)


def model_kinds():
    """The trained models of the study: the linear ones, then the transformer when enabled."""
    return [*config["models"]["linear"], *(["transformer"] if config["models"]["transformer"]["enabled"] else [])]


def model_path(model, label):
    """A saved model: a joblib file (linear) or a directory (transformer)."""
    return f"results/models/{model}_{label}" + ("" if model == "transformer" else ".joblib")


def trained_models(wildcards):
    """Every saved model, named <model>_<label>."""
    return {f"{m}_{l}": model_path(m, l) for m in model_kinds() for l in LABELS}


def trained_records(wildcards):
    """The JSON record of every saved model."""
    return {f"{m}_{l}_record": f"results/models/{m}_{l}.json" for m in model_kinds() for l in LABELS}


def applied_models(wildcards):
    """The saved models of the model applied to the corpus (none for the rule system)."""
    model = config["apply"]["model"]
    return {} if model == "rules" else {f"{model}_{l}": model_path(model, l) for l in LABELS}


def annotation_returns(wildcards):
    """The annotators' returns: the demo's simulated inbox (a rule's output), or every file in the inbox."""
    if config["demo"]:
        return config["annotation"]["inbox"]
    return inbox_files(config["annotation"]["inbox"])


def adjudicated_sheet(wildcards):
    """The adjudicator's sheet, when there is one (a real study with no disagreement needs none)."""
    path = config["annotation"]["adjudicated"]
    return [path] if config["demo"] or Path(path).exists() else []


def notebook_inputs(wildcards):
    """The named inputs of one stage notebook."""
    return NOTEBOOK_INPUTS[wildcards.stage]


def provenance_sources():
    """The files and folders the config names, for results/provenance.json (its declared inputs)."""
    from perivigil.provenance import source_paths

    return source_paths(config, [str(f) for f in workflow.configfiles], Path("."))


def declared_rule_outputs():
    """Each rule's declared output patterns under results/ (flagged when a folder), for provenance."""
    from snakemake.io import is_flagged

    return {
        r.name: [[str(f), is_flagged(f, "directory")] for f in r.output if str(f).startswith("results/")]
        for r in workflow.rules
        if r.name != "provenance"
    }
