"""``contact-center serve`` as an administrator runs it: a real process, stopped by SIGTERM.

The server binds port 0 and prints the URL the system chose; the test waits for ``/readyz``,
reads the demo page and ``/healthz``, then stops it as a service manager does (SIGTERM) and
expects a clean exit. Models are made light through ``CC_*`` settings (fake encoder, fake
LLM): what is tested is the command, not the models. The demo town's pages, seeded at start-up,
fill the index, so the server becomes ready on an empty data folder.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contact_center.kb_admin.local_control import CONTROL_FILE

pytestmark = pytest.mark.slow  # a whole process starts, and trains its request classifier

ROOT = Path(__file__).resolve().parents[2]
#: Upper bounds of waits, not timings: a slower machine still passes within them.
START_BOUND_S = 180
STOP_BOUND_S = 60
URL_LINE = re.compile(r"Centre de contact : (http://127\.0\.0\.1:(\d+))/")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``contact-center serve --port 0`` in a fresh data folder; killed if a test leaves it."""
    env = {
        **os.environ,  # without the caller's CC_* variables: see tests/conftest.py
        "PYTHONPATH": str(ROOT),
        "CC_APP__ENVIRONMENT": "test",
        "CC_APP__DATA_DIR": str(tmp_path / "var"),
        "CC_APP__TENANTS": '{"demo": "Val-Fleuri"}',
        "CC_APP__EMBED_IN_BACKGROUND": "false",
        "CC_QDRANT__PATH": str(tmp_path / "qdrant"),
        "CC_MODELS__DIR": str(tmp_path / "models"),
        "CC_EMBEDDINGS__BACKEND": "fake",
        "CC_ROUTING__EMBEDDER_BACKEND": "fake",
        "CC_LLM__BACKEND": "fake",
    }
    stdout = tmp_path / "stdout.log"
    with stdout.open("wb") as out, (tmp_path / "stderr.log").open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "contact_center.cli", "serve", "--host", "127.0.0.1",
             "--port", "0"],
            cwd=tmp_path,  # no .env of the checkout reaches the settings
            env=env, stdout=out, stderr=err,
        )  # fmt: skip
    try:
        yield process, tmp_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _logs(folder: Path) -> str:
    return "\n".join(
        (folder / name).read_text(errors="replace")[-4000:] for name in ("stdout.log", "stderr.log")
    )


def _announced_url(process: subprocess.Popen[bytes], folder: Path) -> str:
    """The URL that ``serve`` prints once its socket is bound."""
    deadline = time.monotonic() + START_BOUND_S
    while time.monotonic() < deadline:
        match = URL_LINE.search((folder / "stdout.log").read_text(errors="replace"))
        if match:
            assert int(match.group(2)) > 0  # the port the system chose, not « 0 »
            return match.group(1)
        assert process.poll() is None, f"serve exited with {process.returncode}:\n{_logs(folder)}"
        time.sleep(0.2)
    pytest.fail(f"serve printed no URL:\n{_logs(folder)}")


def _wait_ready(client: httpx.Client, process: subprocess.Popen[bytes], folder: Path) -> dict:
    deadline = time.monotonic() + START_BOUND_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"serve exited with {process.returncode}:\n{_logs(folder)}"
        try:
            response = client.get("/readyz")
            if response.status_code == 200:
                return dict(response.json())
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"serve never became ready:\n{_logs(folder)}")


def test_serve_announces_its_port_serves_the_demo_page_and_stops_cleanly_on_sigterm(
    serve: tuple[subprocess.Popen[bytes], Path],
) -> None:
    process, folder = serve
    url = _announced_url(process, folder)
    with httpx.Client(base_url=url, timeout=30) as client:
        ready = _wait_ready(client, process, folder)
        page = client.get("/")
        health = client.get("/healthz")

    assert ready["ready"] and ready["index"]["chunks"] > 0
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'lang="fr"' in page.text and "Val-Fleuri" in page.text
    assert health.json() == {"status": "ok"}
    assert (folder / "var" / CONTROL_FILE).exists()  # kb commands hand their imports to it

    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=STOP_BOUND_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve did not stop within {STOP_BOUND_S} s of SIGTERM:\n{_logs(folder)}")
    assert code == 0, _logs(folder)
    assert not (folder / "var" / CONTROL_FILE).exists()  # withdrawn: no stale hand-over
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/healthz", timeout=5)
