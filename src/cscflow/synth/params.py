"""Simulation parameters: the bundled YAML, presets and overrides merged into one dict.

>>> p = load_parameters("tiny")
>>> p["population"]["children_0_17"], p["preset"]
(2000, 'tiny')
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cscflow.errors import CscflowError

PRESETS = ("tiny", "county", "national")


class ParameterError(CscflowError):
    """A parameter file or preset is unusable."""


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def default_parameters() -> dict[str, Any]:
    """The bundled ``parameters.yaml`` as a dict (presets included, not applied)."""
    return copy.deepcopy(_default_parameters())


@lru_cache(maxsize=1)
def _default_parameters() -> dict[str, Any]:
    text = resources.files("cscflow.synth").joinpath("parameters.yaml").read_text(encoding="utf-8")
    params: dict[str, Any] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return params


def load_parameters(preset_or_path: str | Path | dict[str, Any] = "county", **overrides: Any) -> dict[str, Any]:
    """Parameters for a preset name, a YAML file (merged over the defaults) or a dict.

    ``overrides`` are merged last (nested dicts merge key by key).
    """
    base = default_parameters()
    presets = base.pop("presets", {})
    name = "custom"
    if isinstance(preset_or_path, dict):
        params = _merge(base, preset_or_path)
    elif str(preset_or_path) in presets:
        name = str(preset_or_path)
        params = _merge(base, presets[name] or {})
    else:
        path = Path(preset_or_path)
        if not path.is_file():
            raise ParameterError(
                f"no preset or parameter file {str(preset_or_path)!r}",
                hint=f"use one of {', '.join(presets)} or a YAML file path",
            )
        try:
            extra = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ParameterError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})",
                                 hint="fix the YAML syntax") from None
        if not isinstance(extra, dict):
            raise ParameterError(f"{path}: expected a mapping of parameters, found {type(extra).__name__}",
                                 hint="start from cscflow/synth/parameters.yaml")
        extra.pop("presets", None)
        params = _merge(base, extra)
    params = _merge(params, overrides)
    params.setdefault("preset", name)
    for key in ("start", "end"):
        if isinstance(params[key], str):
            params[key] = dt.date.fromisoformat(params[key])
    if params["end"] <= params["start"]:
        raise ParameterError(f"end {params['end']} is not after start {params['start']}",
                             hint="set end after start in the parameters")
    return params


def to_yaml(params: dict[str, Any]) -> str:
    """The parameters as YAML text (stable key order, so the same run writes the same file)."""
    return yaml.safe_dump(params, sort_keys=True, allow_unicode=True, width=110)
