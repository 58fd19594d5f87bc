"""The annotation scheme: label names, their type and allowed values (``config/labels.yaml``).

Every export, import and agreement table is driven by it, so that a label added here
reaches every tool, and a value outside it is refused at the boundary with the file,
the task and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perivigil.errors import InputError
from perivigil.files import load_yaml

TYPES = ("binary", "nominal", "interval", "ratio")


@dataclass(frozen=True)
class Label:
    name: str
    type: str
    values: tuple[str, ...]  # as strings, in order; empty for interval/ratio
    required: bool
    description: str
    minimum: float | None = None
    maximum: float | None = None

    @property
    def categorical(self) -> bool:
        return self.type in ("binary", "nominal")

    def parse(self, raw: Any, where: str) -> str | None:
        """A value as the canonical string of the scheme, ``None`` when empty; else raise naming ``where``."""
        if raw is None or (isinstance(raw, str) and not raw.strip()) or (isinstance(raw, float) and raw != raw):
            if self.required:
                raise InputError(f"{where}: field '{self.name}' is required")
            return None
        if self.categorical:
            text = str(int(raw)) if isinstance(raw, (bool, float)) and float(raw).is_integer() else str(raw).strip()
            if text not in self.values:
                raise InputError(
                    f"{where}: field '{self.name}' has value {text!r} outside the scheme {list(self.values)}"
                )
            return text
        try:
            number = float(str(raw).replace(",", "."))
        except ValueError:
            raise InputError(f"{where}: field '{self.name}' is not a number: {raw!r}") from None
        if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
            raise InputError(
                f"{where}: field '{self.name}' = {number:g} is outside [{self.minimum:g}, {self.maximum:g}]"
            )
        return f"{number:g}"


@dataclass(frozen=True)
class Scheme:
    labels: tuple[Label, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    def __getitem__(self, name: str) -> Label:
        for label in self.labels:
            if label.name == name:
                return label
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return name in self.names


def load_scheme(path: Path) -> Scheme:
    """Read and check ``config/labels.yaml``."""
    path = Path(path)
    raw = load_yaml(path, "label scheme")
    if not isinstance(raw, dict) or not isinstance(raw.get("labels"), dict) or not raw["labels"]:
        raise InputError(f"{path}: key 'labels' is missing or empty")
    labels = []
    for name, spec in raw["labels"].items():
        where = f"{path}: label '{name}'"
        if not isinstance(spec, dict):
            raise InputError(f"{where}: expected a mapping (type, values, required, description)")
        unknown = sorted(set(spec) - {"type", "values", "required", "description", "min", "max"})
        if unknown:
            raise InputError(f"{where}: unknown key(s) {unknown}")
        if spec.get("type") not in TYPES:
            raise InputError(f"{where}: key 'type' must be one of {TYPES}")
        values = tuple(str(v) for v in spec.get("values", ()))
        if spec["type"] in ("binary", "nominal") and len(values) < 2:
            raise InputError(f"{where}: key 'values' needs at least two values")
        labels.append(
            Label(
                name,
                spec["type"],
                values,
                bool(spec.get("required", False)),
                str(spec.get("description", "")),
                spec.get("min"),
                spec.get("max"),
            )
        )
    return Scheme(tuple(labels))
