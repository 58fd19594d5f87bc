"""The pip lock, environment.yml and the rules' conda env pin the same versions."""

from __future__ import annotations

import re
import tomllib

import yaml


def _lock(root) -> dict[str, str]:
    pins = {}
    for line in (root / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_canonical(name)] = version
    return pins


def _canonical(name: str) -> str:
    # PEP 503 normalisation: runs of -, _ and . are one dash, lower case.
    return re.sub(r"[-_.]+", "-", name).lower()


def _conda_pins(path) -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pins = {}
    for line in pip_section:
        name, version = line.split("==")
        pins[_canonical(name)] = version
    return pins


def test_environment_yml_pins_exactly_the_lock(root):
    assert _conda_pins(root / "environment.yml") == _lock(root)


def test_rule_conda_env_pins_exactly_the_lock(root):
    assert _conda_pins(root / "workflow/envs/perivigil.yaml") == _lock(root)


def test_conda_envs_use_python_311(root):
    for path in (root / "environment.yml", root / "workflow/envs/perivigil.yaml"):
        deps = yaml.safe_load(path.read_text())["dependencies"]
        assert "python=3.11" in deps


def test_every_direct_dependency_is_locked(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    direct = project["dependencies"] + project["optional-dependencies"]["dev"]
    names = {_canonical(re.split(r"[\[<>=!~ ]", d)[0]) for d in direct}
    assert names <= set(_lock(root))


def test_lock_pins_every_line_exactly(root):
    for line in (root / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", line), line


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[_canonical(name)] = version
    return pins


def test_transformer_extra_adds_to_the_lock_without_moving_it(root):
    extra = _pins(root / "requirements-transformer.lock")
    assert extra["torch"] == "2.13.0" and "transformers" in extra
    assert not set(extra) & set(_lock(root))
    # the transformer rule's conda env: the base lock and the extra, nothing else
    assert _conda_pins(root / "workflow/envs/transformer.yaml") == {**_lock(root), **extra}
