"""--sdm conda: the post-deploy script installs perivigil into a fresh environment.

No conda here: the script runs in a fresh venv, the way Snakemake runs it in a new
conda env (that env's python first on PATH, the working directory the clone's root).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("env", ["perivigil", "transformer"])
def test_post_deploy_installs_the_package(root, tmp_path, env):
    venv = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    path = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
    script = root / f"workflow/envs/{env}.post-deploy.sh"
    result = subprocess.run(
        ["bash", str(script)],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path, "PERIVIGIL_ROOT": str(root)},
    )
    assert result.returncode == 0, result.stderr
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import perivigil, sys; print(perivigil.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert where.stdout.strip() == str(root / "src/perivigil/__init__.py")


def test_post_deploy_outside_the_clone_says_what_to_set(root, tmp_path):
    script = root / "workflow/envs/perivigil.post-deploy.sh"
    result = subprocess.run(
        ["bash", str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PERIVIGIL_ROOT"},
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"perivigil post-deploy: {tmp_path} has no pyproject.toml; set PERIVIGIL_ROOT to the clone's root"
    )
