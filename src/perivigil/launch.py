"""Run the study for a person (``make study``, ``perivigil study``): checks first, a quiet run, a clear end.

What Snakemake alone does not do for someone who is not a Snakemake user:

- the configuration (with a real study's key, site profiles and annotation folders) is
  checked before Snakemake starts, and a problem is one line;
- a lock left by a run that was killed is cleared when no Snakemake process works in the
  folder any more (otherwise every later run fails on it until ``--unlock``), and a run
  still working there is named instead of being raced;
- Snakemake prints its progress lines and the steps' own progress (``perivigil.logs``),
  not every job's block of inputs and outputs (``--quiet rules host``);
- a failure ends with the failed step, its one-line reason and its log; a success with
  the study's status (what it waits for, at a real study's human steps) and, once
  complete, the report and the headline numbers (``perivigil.study``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from perivigil.config import validate_config
from perivigil.errors import InputError
from perivigil.files import load_yaml
from perivigil.logs import ERROR_PREFIX

CONFIG = Path("config/config.yaml")
SCHEMA = Path("workflow/schemas/config.schema.yaml")
LOCKS = Path(".snakemake/locks")
QUIET = ("--quiet", "rules", "host")


def merge_config(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base`` as Snakemake merges ``--configfile``: mappings key by key, the rest replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_config(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def study_config(configfiles: Sequence[Path], root: Path = Path("."), check_secrets: bool = True) -> dict[str, Any]:
    """The configuration a run of the DAG sees (``config/config.yaml``, then each ``--configfile``), checked."""
    config: dict[str, Any] = {}
    for path in [root / CONFIG, *configfiles]:
        loaded = load_yaml(path, "study configuration")
        if not isinstance(loaded, dict):
            raise InputError(f"{path}: expected a mapping at the top level")
        config = merge_config(config, loaded)
    origin = " + ".join(str(p) for p in [CONFIG, *configfiles])
    validate_config(config, root / SCHEMA, origin, check_secrets=check_secrets, root=root)
    return config


# ----------------------------------------------------------------------------- a lock left by a killed run
def snakemake_processes(folder: Path, proc: Path = Path("/proc")) -> list[int]:
    """Process ids of Snakemake runs whose working folder is ``folder`` (Linux ``/proc``)."""
    found = []
    folder = folder.resolve()
    for entry in proc.glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            if "snakemake" not in command or int(entry.name) == os.getpid():
                continue
            if Path(os.readlink(entry / "cwd")).resolve() == folder:
                found.append(int(entry.name))
        except (OSError, ValueError):  # a process that ended meanwhile, or not ours to read
            continue
    return sorted(found)


def clear_stale_lock(folder: Path, snakemake: Sequence[str], proc: Path = Path("/proc")) -> str | None:
    """Clear Snakemake's lock when no Snakemake process works in ``folder``; say what was done.

    Raises naming the process when a run is still working there.
    """
    locks = folder / LOCKS
    if not locks.is_dir() or not any(locks.iterdir()):
        return None
    if not proc.is_dir():
        raise InputError(
            f"{locks}: a lock is left, maybe by an interrupted run; if no other run is working here, "
            f"clear it with: {' '.join(snakemake)} --unlock"
        )
    running = snakemake_processes(folder, proc)
    if running:
        raise InputError(
            f"another Snakemake run is working in {folder.resolve()} (process "
            f"{', '.join(map(str, running))}): "
            "wait for it to end, or stop it, then run again"
        )
    result = subprocess.run([*snakemake, "--unlock"], cwd=folder, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InputError(
            f"{locks}: could not clear the lock left by an interrupted run: "
            f"{' '.join(snakemake)} --unlock said: {result.stderr.strip().splitlines()[-1:]}"
        )
    return "cleared the lock left by an interrupted run (no Snakemake process was working here)"


# ----------------------------------------------------------------------------- the run and its end
def failure_summary(output: str) -> str:
    """The first failed step's one-line reason and its log, from what the steps printed (perivigil.logs)."""
    reasons = [line[len(ERROR_PREFIX) :].strip() for line in output.splitlines() if line.startswith(ERROR_PREFIX)]
    if reasons:
        more = f" (and {len(reasons) - 1} more step(s) failed, above)" if len(reasons) > 1 else ""
        return reasons[0] + more
    logs = re.findall(r"^\s+log: (\S+)", output, re.MULTILINE)
    return f"a step failed (log: {logs[0]})" if logs else "Snakemake stopped: see its messages above"


def run_snakemake(arguments: Sequence[str], folder: Path) -> tuple[int, str]:
    """Run Snakemake, its output shown as it comes and kept for the summary."""
    process = subprocess.Popen(
        list(arguments), cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    lines = []
    assert process.stdout is not None
    try:
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
    except KeyboardInterrupt:  # Snakemake got the same Ctrl-C: let it stop its jobs
        process.wait()
        raise
    return process.wait(), "".join(lines)


def build_report(snakemake: Sequence[str], folder: Path) -> None:
    """``results/report.html`` (written beside, then moved: a failure leaves no half report)."""
    partial = folder / "results/report.tmp.html"
    result = subprocess.run(
        [*snakemake, "--quiet", "all", "--report", str(partial.relative_to(folder))],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise InputError(f"the Snakemake report could not be built: {last}")
    shutil.move(partial, folder / "results/report.html")


def study(cores: str, configfiles: Sequence[Path], extra: Sequence[str], folder: Path = Path(".")) -> int:
    """``make study``: see the module docstring; returns the exit status."""
    from perivigil.study import format_status, headline, study_stage

    config = study_config(configfiles, folder)
    snakemake = [sys.executable, "-m", "snakemake", *(["--configfile", *map(str, configfiles)] if configfiles else [])]
    cleared = clear_stale_lock(folder, snakemake)
    if cleared:
        print(f"perivigil study: {cleared}", flush=True)
    # --configfile and --quiet take several values: an option must follow them, never a target
    status, output = run_snakemake([*snakemake, *QUIET, "--cores", cores, *extra], folder)
    if status != 0:
        print(f"\nperivigil study: stopped: {failure_summary(output)}", file=sys.stderr, flush=True)
        return status
    state = study_stage(config, folder)
    if state.stage == "complete":
        build_report(snakemake, folder)
    print()
    if not state.demo:
        print(format_status(state, folder))
    if state.stage == "complete":
        print(headline(folder))
    return 0


def status(configfiles: Sequence[Path], folder: Path = Path(".")) -> str:
    """``perivigil status``: where the study stands, and its headline numbers once complete."""
    from perivigil.study import format_status, headline, study_stage

    state = study_stage(study_config(configfiles, folder, check_secrets=False), folder)
    text = format_status(state, folder)
    return text + ("\n" + headline(folder) if state.stage == "complete" else "")
