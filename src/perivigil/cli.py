"""The ``perivigil`` command: rerun one step of the study by hand, on any file.

Subcommands:
  study        run the whole study (what `make study` runs): checks, the DAG, status, report
  status       where the study stands: what is done, what it waits for, the headline numbers
  rehearse     play a real study's annotators or adjudicator from a truth table (a dress rehearsal)
  demo-forum   regenerate the demo forum snapshot (byte-identical for a seed), or serve it over HTTP
  collect      collect one source (a forum, a Reddit dump, a Bluesky month) into a raw JSONL file
  reddit-dump  filter one Reddit monthly dump (RS_/RC_YYYY-MM.zst) by subreddit into a raw JSONL file
  preprocess   raw JSONL files -> pseudonymised, masked posts.parquet
  classify     label posts (JSONL) with the expert rule system -> CSV
  agreement    inter-annotator agreement of a long CSV -> agreement.json
  import-annotations  read the annotators' returns (any tool's export) -> long annotations CSV + import report
  sample-size  posts to annotate per stratum for a target CI half-width of Se, Sp and prevalence

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


def cmd_study(args: argparse.Namespace) -> int:
    from perivigil.launch import study

    extra = [a for a in args.snakemake_args if a != "--"]
    return study(args.cores, args.configfile, extra)


def cmd_status(args: argparse.Namespace) -> int:
    from perivigil.launch import status

    print(status(args.configfile))
    return 0


def cmd_rehearse(args: argparse.Namespace) -> int:
    from perivigil.annotation.run import simulate_adjudicator, simulate_annotators
    from perivigil.launch import study_config
    from perivigil.study import ASSIGNMENTS, SAMPLE, SHEET

    truths = {}
    for pair in args.truth:
        source, sep, path = pair.partition("=")
        if not sep:
            raise InputError(f"--truth {pair}: expected SOURCE=PATH (e.g. demo_forum=resources/demo_forum/truth.csv)")
        truths[source] = Path(path)
    section = study_config(args.configfile, check_secrets=False)["annotation"]
    if args.role == "annotators":
        for path in (SAMPLE, ASSIGNMENTS):
            if not Path(path).is_file():
                raise InputError(f"{path}: no annotation sample yet: run `make study` first")
        counts = simulate_annotators(
            Path(SAMPLE), Path(ASSIGNMENTS), truths, section, Path(section["inbox"]), args.annotator, args.first
        )
        for annotator, n in counts.items():
            print(f"{annotator}: {n} posts returned into {Path(section['inbox']) / annotator}/")
        return 0
    if not Path(SHEET).is_file():
        raise InputError(f"{SHEET}: no adjudication sheet yet: run `make study` once every return is in")
    decided = simulate_adjudicator(Path(SHEET), truths, section, Path(section["adjudicated"]))
    print(f"{decided} decisions written to {section['adjudicated']}")
    return 0


def cmd_demo_forum(args: argparse.Namespace) -> int:
    from perivigil.demo.build import build_demo_forum

    config = _config(args, check_files=False)
    settings = config.get("demo_forum")
    if settings is None:
        raise InputError(f"{args.config}: key 'demo_forum' is missing")
    if args.serve is not None:
        import time

        from perivigil.demo.serve import forum_server

        server = forum_server(args.site or settings["site"], args.serve, args.crawl_delay)
        print(
            f"serving {args.site or settings['site']} at http://127.0.0.1:{server.server_address[1]}/index.html "
            "(Ctrl-C to stop)",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        finally:
            server.shutdown()
    if args.jsonl:
        from perivigil.demo.build import write_demo_jsonl

        n = write_demo_jsonl(settings, args.posts or settings["n_posts"], args.jsonl)
        print(f"wrote {n} posts to {args.jsonl}")
        return 0
    counts = build_demo_forum(settings)
    print(json.dumps(counts, indent=1))
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    from perivigil.collect.shards import collect_shard

    config = _config(args)
    source = next((s for s in config["sources"] if s["name"] == args.source), None)
    if source is None:
        names = [s["name"] for s in config["sources"]]
        raise InputError(f"{args.config}: no source named {args.source!r} (sources: {names})")
    report = collect_shard(source, args.shard, config["collect"], args.output, args.report)
    print(f"{report.get('post', 'kept')} posts kept; report in {args.report}")
    return 0


def cmd_reddit_dump(args: argparse.Namespace) -> int:
    from perivigil.collect.reddit import collect_dump, summary

    report = collect_dump(
        args.input, args.output, source=args.source, subreddits=args.subreddit, report_path=args.report
    )
    print(f"perivigil reddit-dump: {summary(args.input, report)}", file=sys.stderr)
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
    from perivigil.extract.run import extractor_from_config, lexicon_from_config
    from perivigil.models.classify import classify_jsonl
    from perivigil.models.rules import thresholds_from_config

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
    counts = classify_jsonl(
        args.input, args.output, extractor_from_config(config, lexicon), thresholds_from_config(config)
    )
    print(f"{counts['posts']} posts: {counts['iso_t1']} iso_t1, {counts['nsaid_late']} nsaid_late -> {args.output}")
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from perivigil.agreement import LEVELS, agreement_table, read_long_csv
    from perivigil.report.agreement import format_table, write_json

    if args.level not in LEVELS:
        raise InputError(f"--level {args.level}: expected one of {', '.join(LEVELS)}")
    long = read_long_csv(args.input)
    results = agreement_table(
        long, {label: args.level for label in long["label"].unique()}, args.n_boot, args.seed, args.bootstrap
    )
    args.output.mkdir(parents=True, exist_ok=True)
    write_json(results, args.output / "agreement.json")
    print(format_table(results))
    return 0


def _read_sample(path: Path):
    """``post_id,text`` of the posts sent out, from CSV, JSONL or Parquet."""
    import pandas as pd

    from perivigil.files import check_input_file, read_delimited_frame

    check_input_file(path, "annotation sample")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif suffix in (".jsonl", ".ndjson"):
        from perivigil.files import iter_json_lines

        frame = pd.DataFrame([record for _, record in iter_json_lines(path)])
    else:
        frame = read_delimited_frame(path, ("post_id", "text"), "annotation sample")
    missing = [name for name in ("post_id", "text") if name not in frame.columns]
    if missing:
        raise InputError(f"{path}: column(s) {missing} missing; expected post_id,text of the posts sent out")
    return frame[["post_id", "text"]].astype(str)


def cmd_import_annotations(args: argparse.Namespace) -> int:
    import pandas as pd

    from perivigil.annotation.imports import REPORT_COLUMNS, import_inbox
    from perivigil.annotation.scheme import load_scheme

    config, root = _study_config(args.config, args.schema)
    section = config["annotation"]
    labels = args.labels or root / section["labels"]
    judgements, report = import_inbox(
        args.inbox, load_scheme(labels), _read_sample(args.sample), section.get("tool_users") or {}
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    judgements[["post_id", "annotator", "label", "value", "source_file"]].to_csv(
        args.output, index=False, lineterminator="\n"
    )
    if args.report:
        pd.DataFrame(report.rows(), columns=list(REPORT_COLUMNS)).to_csv(args.report, index=False, lineterminator="\n")
    print("\n".join(report.lines()))
    print(f"{len(judgements)} judgements from {judgements['annotator'].nunique()} annotators -> {args.output}")
    return 0


def cmd_sample_size(args: argparse.Namespace) -> int:
    from perivigil.sample_size import stratum_sizes

    strata = {"candidates": args.prevalence_candidates, "noncandidates": args.prevalence_noncandidates}
    try:
        rows = {
            name: stratum_sizes(
                p,
                args.sensitivity,
                args.specificity,
                args.se_half_width,
                args.sp_half_width,
                args.prevalence_half_width,
                args.level,
            )
            for name, p in strata.items()
        }
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("stratum,expected_prevalence,n_sensitivity,n_specificity,n_prevalence,posts")
    for name, sizes in rows.items():
        print(
            f"{name},{strata[name]:g},{sizes['sensitivity']},{sizes['specificity']},{sizes['prevalence']},"
            f"{sizes['posts']}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perivigil", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="study configuration (YAML)")
        p.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA, help="its JSON schema")
        return p

    p = sub.add_parser("study", help="run the whole study: checks, the DAG, the status, the report (make study)")
    p.add_argument("--cores", default="all", help="cores Snakemake may use (default: all)")
    p.add_argument(
        "--configfile",
        type=Path,
        action="append",
        default=[],
        help="a configuration laid over config/config.yaml (as Snakemake's --configfile); repeatable",
    )
    p.add_argument(
        "snakemake_args",
        nargs=argparse.REMAINDER,
        help="after --, arguments passed to Snakemake as they are (e.g. -- --dry-run)",
    )
    p.set_defaults(func=cmd_study)

    p = sub.add_parser("status", help="where the study stands, what it waits for, its headline numbers")
    p.add_argument(
        "--configfile",
        type=Path,
        action="append",
        default=[],
        help="a configuration laid over config/config.yaml, as given to `perivigil study`",
    )
    p.set_defaults(func=cmd_status)

    p = with_config(sub.add_parser("demo-forum", help="regenerate the demo forum snapshot"))
    p.add_argument("--jsonl", type=Path, help="write posts in the raw JSONL format here instead of HTML")
    p.add_argument("--posts", type=int, help="number of posts (default: the config's n_posts)")
    p.add_argument(
        "--serve",
        type=int,
        metavar="PORT",
        help="serve the snapshot over HTTP on 127.0.0.1:PORT instead (to rehearse a real collection)",
    )
    p.add_argument("--site", type=Path, help="with --serve: another snapshot folder (default: the demo's)")
    p.add_argument("--crawl-delay", type=float, help="with --serve: the Crawl-delay robots.txt asks for (default 1 s)")
    p.set_defaults(func=cmd_demo_forum)

    p = sub.add_parser("rehearse", help="play the annotators or the adjudicator of a real study from a truth table")
    p.add_argument("role", choices=("annotators", "adjudicator"))
    p.add_argument(
        "--truth",
        action="append",
        required=True,
        metavar="SOURCE=CSV",
        help="truth table of a source's posts (native ids), e.g. demo_forum=resources/demo_forum/truth.csv",
    )
    p.add_argument("--annotator", action="append", help="only these annotators (default: every simulated one)")
    p.add_argument("--first", type=int, help="only the first N posts of each batch: a partial return")
    p.add_argument(
        "--configfile",
        type=Path,
        action="append",
        default=[],
        help="a configuration laid over config/config.yaml, as given to `perivigil study`",
    )
    p.set_defaults(func=cmd_rehearse)

    p = with_config(sub.add_parser("collect", help="crawl one source into raw JSONL"))
    p.add_argument("--source", required=True, help="a source name of the configuration")
    p.add_argument(
        "--shard", help="a Reddit source's dump (RS_2024-01) or a Bluesky source's month (2024-01); a forum has one"
    )
    p.add_argument("--output", type=Path, required=True, help="raw JSONL to write (raw zone)")
    p.add_argument("--report", type=Path, required=True, help="collection report CSV to write")
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser("reddit-dump", help="keep a Reddit monthly dump's posts of some subreddits, as raw JSONL")
    p.add_argument("--input", type=Path, required=True, help="a Pushshift / Arctic Shift dump, RS_ or RC_YYYY-MM.zst")
    p.add_argument(
        "--subreddit",
        action="append",
        required=True,
        metavar="NAME",
        help="a subreddit to keep, any case (e.g. france); repeatable",
    )
    p.add_argument("--output", type=Path, required=True, help="raw JSONL to write (raw zone)")
    p.add_argument("--source", default="reddit", help="the source name written in each record (default: reddit)")
    p.add_argument("--report", type=Path, help="collection report CSV to write (kept and dropped, by reason)")
    p.set_defaults(func=cmd_reddit_dump)

    p = with_config(sub.add_parser("classify", help="label posts (JSONL) with a model: iso_t1, nsaid_late"))
    p.add_argument(
        "--model",
        required=True,
        help="'rules' (the expert rule system), or a trained model prefix such as results/models/logreg "
        "(reads <prefix>_iso_t1.joblib and <prefix>_nsaid_late.joblib)",
    )
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
    p.add_argument(
        "--bootstrap",
        choices=("pairs", "units"),
        default="pairs",
        help="Krippendorff's bootstrap of pairable values (default) or over units",
    )
    p.set_defaults(func=cmd_agreement)

    p = with_config(
        sub.add_parser("import-annotations", help="read the annotators' returns (any tool's export) into a long CSV")
    )
    p.add_argument(
        "--inbox",
        type=Path,
        required=True,
        help="folder with one folder per annotator or tool export (files, zips, brat / XMI folders)",
    )
    p.add_argument("--sample", type=Path, required=True, help="the posts sent out: post_id,text (CSV, JSONL, Parquet)")
    p.add_argument("--output", type=Path, required=True, help="CSV: post_id,annotator,label,value,source_file")
    p.add_argument("--report", type=Path, help="also write the import report (annotator,file,what,count) here")
    p.add_argument("--labels", type=Path, help="the label scheme (default: annotation.labels of the config)")
    p.set_defaults(func=cmd_import_annotations)

    p = sub.add_parser(
        "sample-size",
        help="posts to annotate per stratum for a target CI half-width (Wald; Buderer 1996 for Se and Sp)",
    )
    p.add_argument(
        "--prevalence-candidates",
        type=float,
        required=True,
        help="expected prevalence of the label among candidates (posts with a drug of interest)",
    )
    p.add_argument(
        "--prevalence-noncandidates",
        type=float,
        required=True,
        help="expected prevalence among non-candidates (what the lexicon misses)",
    )
    p.add_argument("--sensitivity", type=float, default=0.9, help="expected sensitivity (default 0.9)")
    p.add_argument("--specificity", type=float, default=0.95, help="expected specificity (default 0.95)")
    p.add_argument("--se-half-width", type=float, default=0.1, help="target CI half-width of Se (default 0.1)")
    p.add_argument("--sp-half-width", type=float, default=0.05, help="target CI half-width of Sp (default 0.05)")
    p.add_argument(
        "--prevalence-half-width",
        type=float,
        default=0.05,
        help="target CI half-width of the prevalence in each stratum (default 0.05)",
    )
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--json", action="store_true", help="print JSON instead of CSV")
    p.set_defaults(func=cmd_sample_size)

    p = with_config(sub.add_parser("preprocess", help="raw JSONL -> posts.parquet"))
    p.add_argument("--input", type=Path, nargs="+", required=True, help="raw JSONL file(s)")
    p.add_argument("--output", type=Path, required=True, help="posts.parquet to write")
    p.add_argument("--summary", type=Path, required=True, help="summary JSON to write")
    p.set_defaults(func=cmd_preprocess)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.func(args)
    except InputError as exc:
        print(f"perivigil {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written, named by the system
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"perivigil {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"perivigil {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
