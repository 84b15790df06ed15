"""Imports as background jobs: the server answers residents meanwhile, the admin follows the
progress, a second import waits its turn, and the command line hands its import to the server."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.cli import main
from contact_center.kb_admin import local_control
from contact_center.services import Services
from contact_center.settings import Settings
from contact_center.testing.chat_harness import ChatHarness, sign_in
from contact_center.testing.import_jobs import GatedDocuments, follow_job
from knowledge_base.documents import Document
from knowledge_base.markdown import load_demo_documents
from retrieval.embeddings import Embedder
from routing.classifier import RequestClassifier
from tests.conftest import OTHER_TENANT, listening_socket, serve_app

KB = "/api/v1/tenants/demo/kb"


def new_fiches(test_documents: list[Document], count: int) -> list[Document]:
    """Real fiches the index does not hold yet: copies under other ids, for the other commune
    (so that the demo town's answers stay the same while they are imported)."""
    fiches = [d for d in test_documents if d.source == "service-public"][:count]
    return [replace(d, id=f"copie-{d.id}", tenant_id=OTHER_TENANT) for d in fiches]


def test_an_import_runs_in_the_background_while_residents_get_answers(
    client: TestClient, test_documents: list[Document]
) -> None:
    sign_in(client, role="admin")
    jobs = client.app.state.services.import_jobs  # type: ignore[attr-defined]
    documents = GatedDocuments(new_fiches(test_documents, 8), stop_before=4)
    started = jobs.start("local", "demo", "admin@demo.example", documents=documents)
    assert documents.reached.wait(timeout=120)

    # Half-way: the admin sees where it is, and the first batches are already written.
    running = client.get(f"{KB}/jobs/{started.id}").json()
    assert running["phase"] == "indexing" and running["finished"] is False
    assert running["documents_seen"] == 4 and running["chunks_upserted"] > 0
    assert running["finished_at"] is None and running["error"] is None
    assert client.get(f"{KB}/jobs/current").json()["job"]["id"] == started.id

    # A resident's question is answered while the import is in progress.
    turn = ChatHarness(client).send("Comment se pacser ?")
    assert turn.status_code == 200
    assert turn.done["abstained"] is False and turn.done["sources"]

    # A second import is refused, in French, naming the running one.
    for path, body in ((f"{KB}/jobs", {"kind": "reindex"}), (f"{KB}/imports/service-public", {})):
        refused = client.post(path, json=body)
        assert refused.status_code == 409, refused.text
        assert "déjà en cours" in refused.json()["message"]
        assert started.id in refused.json()["message"]

    documents.release()
    done = follow_job(client, "demo", started.id)
    assert done["phase"] == "done" and done["error"] is None and done["finished_at"]
    assert (done["documents_seen"], done["documents_indexed"]) == (8, 8)
    assert done["chunks_upserted"] > running["chunks_upserted"]
    audit = client.get(f"{KB}/audit").json()
    assert "kb.local_pages.imported" in {entry["action"] for entry in audit}
    # Then the next import may start.
    again = client.post(f"{KB}/jobs", json={"kind": "local"})
    assert again.status_code == 202, again.text
    assert follow_job(client, "demo", again.json()["id"])["phase"] == "done"


def test_jobs_are_the_commune_admins_only(client: TestClient) -> None:
    assert client.post(f"{KB}/jobs", json={"kind": "local"}).status_code == 401
    refused = client.post(
        f"{KB}/jobs", json={"kind": "local"}, headers={"Authorization": "Bearer x"}
    )
    assert refused.status_code == 401
    assert "Jeton local refusé" in refused.json()["message"]
    sign_in(client, role="agent")
    assert client.post(f"{KB}/jobs", json={"kind": "local"}).status_code == 403
    sign_in(client, role="admin")
    started = client.post(f"{KB}/jobs", json={"kind": "local"}).json()
    assert follow_job(client, "demo", started["id"])["phase"] == "done"
    other = f"/api/v1/tenants/{OTHER_TENANT}/kb/jobs/{started['id']}"
    assert client.get(other).status_code == 404
    assert client.post(f"{KB}/jobs", json={"kind": "everything"}).status_code == 422


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The server's settings, and the same for the command line (through the environment)."""
    monkeypatch.setenv("CC_APP__DATA_DIR", str(settings.app.data_dir))
    monkeypatch.setenv("CC_QDRANT__PATH", str(settings.qdrant_path))
    monkeypatch.setenv("CC_LLM__BACKEND", "fake")
    monkeypatch.setenv("CC_KB__ONLY_IDS", '["F200"]')
    kb = settings.kb.model_copy(update={"only_ids": ("F200",)})
    return settings.model_copy(update={"kb": kb})


def test_the_command_line_hands_a_reindex_to_the_running_server(
    cli_settings: Settings,
    embedder: Embedder,
    request_classifier: RequestClassifier,
    capsys: pytest.CaptureFixture[str],
    refused_port: int,
) -> None:
    sock = listening_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    services = Services(cli_settings, embedder=embedder, classifier=request_classifier)
    control_file = local_control.control_path(cli_settings.app.data_dir)
    pages = len(load_demo_documents("demo"))
    with serve_app(create_app(services=services, local_url=url), sock=sock):
        assert stat.S_IMODE(control_file.stat().st_mode) == 0o600
        assert json.loads(control_file.read_text())["url"] == url

        assert main(["kb", "reindex"]) == 0
        out, err = capsys.readouterr()
        job = json.loads(out.strip().splitlines()[-1])
        assert job["phase"] == "done" and job["kind"] == "reindex"
        assert job["documents_seen"] == pages + 1  # the demo pages and the one fiche
        assert (job["documents_unchanged"], job["documents_indexed"]) == (pages, 1)
        assert "l'import lui est confié" in err
        assert f"[{job['id']}] terminé : {pages + 1} document(s) lus, 1 écrit(s)" in err
        # The server's index holds the new fiche at once (its vector follows in the background).
        assert "F200" in {doc_id for _, doc_id in services.store.document_versions()}

        # A control file that is not this server's: its token is refused, clearly.
        real = control_file.read_text()
        control_file.write_text(json.dumps({**json.loads(real), "token": "autre"}))
        assert main(["kb", "import-local"]) == 1
        assert "refuse le jeton du fichier" in capsys.readouterr().err
        control_file.write_text(real)
    assert not control_file.exists()  # removed at shutdown

    # A server gone without removing its file (killed): the command says what to do.
    local_control.publish(cli_settings.app.data_dir, f"http://127.0.0.1:{refused_port}")
    assert main(["kb", "reindex"]) == 1
    err = capsys.readouterr().err
    assert "qui ne répond pas" in err and str(control_file) in err
    assert "supprimez-le puis relancez la commande" in err


def test_each_import_gets_its_dense_vectors_in_the_background(
    client: TestClient, test_documents: list[Document]
) -> None:
    sign_in(client, role="admin")
    services = client.app.state.services  # type: ignore[attr-defined]
    fiches = new_fiches(test_documents, 4)
    for documents in (fiches[:2], fiches[2:]):  # two imports, one after the other
        job = services.import_jobs.start("local", "demo", "admin@demo.example", documents=documents)
        assert follow_job(client, "demo", job.id)["documents_indexed"] == 2
        background = services.kb_index.background
        assert background.thread is not None
        background.thread.join(timeout=300)
        assert background.error is None
        assert services.store.count(without_dense=True) == 0
