"""The suite's own guarantees: a clean environment, and no silent skips in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from contact_center.settings import Settings
from tests.conftest import TEST_VARIABLES, require_module, unavailable


def test_the_runners_cc_variables_do_not_reach_the_tests() -> None:
    leaked = [name for name in os.environ if name.startswith("CC_") and name not in TEST_VARIABLES]
    assert leaked == []
    assert Settings().llm.backend == "llamacpp" and Settings().database.url is None


def test_a_dotenv_file_in_the_working_folder_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "CC_APP__ENVIRONMENT=production\nCC_DATABASE__URL=postgresql://ailleurs/prod\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.app.environment == "development"
    assert settings.database.url is None


def test_a_missing_requirement_is_skipped_with_its_reason_on_a_laptop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Redis is not reachable"):
        unavailable("Redis is not reachable on 127.0.0.1:6379")
    with pytest.raises(pytest.skip.Exception, match="the 'speech' extra"):
        require_module("no_such_module_here", "the 'speech' extra is not installed")


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_a_missing_requirement_fails_the_run_in_ci(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI=true and Chromium not found"):
        unavailable("Chromium not found at /usr/bin/chromium")
    with pytest.raises(ImportError):
        require_module("no_such_module_here", "the 'speech' extra is not installed")
