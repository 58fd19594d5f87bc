"""The ``perivigil`` command: rerun one step of the study by hand, on any file.

Subcommands:
  demo-forum   regenerate the demo forum snapshot (byte-identical for a seed)
  collect      crawl one source of a configuration into a raw JSONL file
  preprocess   raw JSONL files -> pseudonymised, masked posts.parquet
  classify     label posts (JSONL) with the expert rule system -> CSV
  agreement    inter-annotator agreement of a long CSV -> agreement.json

Bad input ends with a one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from perivigil.errors import InputError

DEFAULT_CONFIG = Path("config/config.yaml")
DEFAULT_SCHEMA = Path("workflow/schemas/config.schema.yaml")


def _config(args: argparse.Namespace, check_files: bool = True) -> dict:
    from perivigil.config import load_config

    return load_config(args.config, args.schema, check_files)


def cmd_demo_forum(args: argparse.Namespace) -> int:
    from perivigil.demo.build import build_demo_forum

    config = _config(args, check_files=False)
    settings = config.get("demo_forum")
    if settings is None:
        raise InputError(f"{args.config}: key 'demo_forum' is missing")
    if args.jsonl:
        from perivigil.demo.build import write_demo_jsonl

        n = write_demo_jsonl(settings, args.posts or settings["n_posts"], args.jsonl)
        print(f"wrote {n} posts to {args.jsonl}")
        return 0
    counts = build_demo_forum(settings)
    print(json.dumps(counts, indent=1))
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    from perivigil.collect.run import collect_source

    config = _config(args)
    source = next((s for s in config["sources"] if s["name"] == args.source), None)
    if source is None:
        names = [s["name"] for s in config["sources"]]
        raise InputError(f"{args.config}: no source named {args.source!r} (sources: {names})")
    report = collect_source(source, config["collect"], args.output, args.report)
    print(f"{report.get('post', 'kept')} posts kept; report in {args.report}")
    return 0


def cmd_preprocess(args: argparse.Namespace) -> int:
    from perivigil.preprocess.run import preprocess_from_config

    config = _config(args)
    summary = preprocess_from_config(args.input, args.output, args.summary, config)
    print(json.dumps(summary, indent=1))
    return 0


def _study_config(path: Path, schema: Path) -> tuple[dict, Path]:
    """The configuration and the folder its relative paths start from (the repository root).

    Looked up as given, else beside the installed package (an editable install), so that
    ``perivigil classify`` works from any folder.
    """
    from perivigil.config import load_config

    candidates = [(path, schema, Path("."))]
    root = Path(__file__).resolve().parents[2]
    candidates.append((root / path, root / schema, root))
    for config_path, schema_path, base in candidates:
        if config_path.exists() and schema_path.exists():
            return load_config(config_path, schema_path, check_files=False), base
    raise InputError(f"{path}: study configuration not found (run from the repository root, or pass --config)")


def cmd_classify(args: argparse.Namespace) -> int:
    from perivigil.extract.run import extractor_from_config, lexicon_from_config, thresholds_from_config
    from perivigil.models.classify import classify_jsonl

    if args.model != "rules":
        from perivigil.models.classify import classify_jsonl_with_models

        counts = classify_jsonl_with_models(args.input, args.output, Path(args.model))
        print(f"{counts['posts']} posts: {counts['iso_t1']} iso_t1, {counts['nsaid_late']} nsaid_late -> {args.output}")
        return 0
    config, root = _study_config(args.config, args.schema)
    if args.lexicon:
        import pandas as pd

        lexicon = pd.read_parquet(args.lexicon)
    else:
        lexicon = lexicon_from_config(config, root)
    counts = classify_jsonl(args.input, args.output, extractor_from_config(config, lexicon),
                            thresholds_from_config(config))
    print(f"{counts['posts']} posts: {counts['iso_t1']} iso_t1, {counts['nsaid_late']} nsaid_late -> {args.output}")
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from perivigil.agreement import LEVELS, agreement_table, read_long_csv
    from perivigil.report.agreement import format_table, write_json

    if args.level not in LEVELS:
        raise InputError(f"--level {args.level}: expected one of {', '.join(LEVELS)}")
    long = read_long_csv(args.input)
    results = agreement_table(long, {label: args.level for label in long["label"].unique()}, args.n_boot, args.seed,
                              args.bootstrap)
    args.output.mkdir(parents=True, exist_ok=True)
    write_json(results, args.output / "agreement.json")
    print(format_table(results))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perivigil", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="study configuration (YAML)")
        p.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA, help="its JSON schema")
        return p

    p = with_config(sub.add_parser("demo-forum", help="regenerate the demo forum snapshot"))
    p.add_argument("--jsonl", type=Path, help="write posts in the raw JSONL format here instead of HTML")
    p.add_argument("--posts", type=int, help="number of posts (default: the config's n_posts)")
    p.set_defaults(func=cmd_demo_forum)

    p = with_config(sub.add_parser("collect", help="crawl one source into raw JSONL"))
    p.add_argument("--source", required=True, help="a source name of the configuration")
    p.add_argument("--output", type=Path, required=True, help="raw JSONL to write (raw zone)")
    p.add_argument("--report", type=Path, required=True, help="collection report CSV to write")
    p.set_defaults(func=cmd_collect)

    p = with_config(sub.add_parser("classify", help="label posts (JSONL) with a model: iso_t1, nsaid_late"))
    p.add_argument("--model", required=True,
                   help="'rules' (the expert rule system), or a trained model prefix such as results/models/logreg "
                        "(reads <prefix>_iso_t1.joblib and <prefix>_nsaid_late.joblib)")
    p.add_argument("--input", type=Path, required=True, help="JSONL, one object per line with post_id and text")
    p.add_argument("--output", type=Path, required=True, help="CSV: post_id,iso_t1,nsaid_late,evidence...")
    p.add_argument("--lexicon", type=Path, help="a lexicon.parquet (default: built from the config)")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("agreement", help="inter-annotator agreement of a long CSV (unit_id,annotator,label,value)")
    p.add_argument("--input", type=Path, required=True, help="CSV with header unit_id,annotator,label,value")
    p.add_argument("--level", required=True, help="nominal, ordinal, interval or ratio")
    p.add_argument("--output", type=Path, required=True, help="folder for agreement.json")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates (default 1000)")
    p.add_argument("--seed", type=int, default=20250301, help="bootstrap seed")
    p.add_argument("--bootstrap", choices=("pairs", "units"), default="pairs",
                   help="Krippendorff's bootstrap of pairable values (default) or over units")
    p.set_defaults(func=cmd_agreement)

    p = with_config(sub.add_parser("preprocess", help="raw JSONL -> posts.parquet"))
    p.add_argument("--input", type=Path, nargs="+", required=True, help="raw JSONL file(s)")
    p.add_argument("--output", type=Path, required=True, help="posts.parquet to write")
    p.add_argument("--summary", type=Path, required=True, help="summary JSON to write")
    p.set_defaults(func=cmd_preprocess)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except InputError as exc:
        print(f"perivigil {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
