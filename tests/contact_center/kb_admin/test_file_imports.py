"""Files an administrator imports into the knowledge base, sent as ``multipart/form-data``
through the real app (SQLite and PostgreSQL): each format is read, bad files and bad forms are
refused in French and store nothing, and a body past 10 Mo is refused while it arrives (over a
real server and a raw socket: a client declaring 50 Mo gets its answer before sending them)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.services import Services
from contact_center.testing.chat_harness import TEST_PASSWORD, sign_in
from knowledge_base.importers import MAX_BYTES
from routing.testing.fakes import FakeRequestClassifier
from tests.conftest import OTHER_TENANT, make_settings, serve_app
from tests.knowledge_base.test_importers import blank_pdf, text_pdf

KB = "/api/v1/tenants/demo/kb"
TOO_LARGE = "Le fichier dépasse la taille autorisée (10 Mo)."


def upload(client: TestClient, name: str, data: bytes, **fields: str) -> Any:
    return client.post(f"{KB}/imports", files={"file": (name, data)}, data=fields)


def document_count(client: TestClient) -> int:
    return int(client.get(f"{KB}/documents").json()["total"])


def test_imports_each_format_and_refuses_bad_files(admin_client: TestClient) -> None:
    client = admin_client
    md = "# Tarifs de la cantine\n\nLe repas coûte 3,10 euros pour les élèves de Val-Fleuri."
    ok = upload(client, "tarifs-cantine.md", md.encode(), publish="true")
    assert ok.status_code == 201 and ok.json()["status"] == "published"
    assert ok.json()["version"]["note"] == "Import MARKDOWN (tarifs-cantine.md)"
    html = (
        "<html><head><title>Marché</title></head><body><nav>Menu</nav>"
        "<main><p>Le marché a lieu le dimanche.</p></main></body></html>"
    ).encode()
    marche = upload(client, "marche.html", html)
    assert marche.json()["kind"] == "html" and marche.json()["status"] == "draft"
    pdf = upload(client, "salle.pdf", text_pdf("Location de la salle des fetes", "Tarif 250 euros"))
    assert pdf.status_code == 201 and "250 euros" in pdf.json()["version"]["body"]

    count = document_count(client)
    for name, data, words in [
        ("vide.md", b"", "vide"),
        ("menu.html", b"<body><nav>Accueil</nav></body>", "pas de texte exploitable"),
        ("casse.pdf", b"%PDF-1.4 garbage", "endommagé"),
        ("scan.pdf", blank_pdf(), "document numérisé"),
        ("note.docx", b"PK\x03\x04", "non pris en charge"),
    ]:
        refused = upload(client, name, data)
        assert refused.status_code == 422 and words in refused.json()["message"], name
    assert document_count(client) == count  # nothing half-imported


def test_a_file_past_10_mo_is_refused_and_nothing_is_stored(admin_client: TestClient) -> None:
    client = admin_client
    count = document_count(client)
    just_over = upload(client, "rapport.md", b"# Rapport\n\n" + b"a" * MAX_BYTES)
    assert just_over.status_code == 413
    assert just_over.json() == {"code": "too_large", "message": TOO_LARGE}
    far_over = upload(client, "archives.md", b"a" * (MAX_BYTES * 2))
    assert far_over.status_code == 413 and far_over.json()["message"] == TOO_LARGE
    assert document_count(client) == count


def test_a_request_without_a_usable_file_is_refused_in_french(admin_client: TestClient) -> None:
    client = admin_client
    count = document_count(client)

    # The former way (the file as the body, its name in the query) says what to send instead.
    raw = client.post(f"{KB}/imports", params={"filename": "a.md"}, content=b"# A\n\nB.")
    assert raw.status_code == 415
    assert "multipart/form-data" in raw.json()["message"]

    for missing in (
        client.post(f"{KB}/imports", files={"document": ("a.md", b"# A\n\nB.")}),
        client.post(f"{KB}/imports", files={"file": ("", b"")}),  # a form sent without a file
    ):
        assert missing.status_code == 422, missing.text
        assert missing.json()["code"] == "missing_file"
        assert "Aucun fichier reçu" in missing.json()["message"]

    two = client.post(
        f"{KB}/imports", files=[("file", ("a.md", b"# A\n\nB.")), ("file", ("b.md", b"# B\n\nC."))]
    )
    assert two.status_code == 400 and "un seul fichier" in two.json()["message"]
    broken = client.post(
        f"{KB}/imports",
        content=b"pas un formulaire",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert broken.status_code == 400 and "n'a pas pu être lu" in broken.json()["message"]
    unclear = upload(client, "a.md", b"# A\n\nB.", publish="peut-etre")
    assert unclear.status_code == 422 and "true ou false" in unclear.json()["message"]
    long_name = upload(client, "a" * 256 + ".md", b"# A\n\nB.")
    assert long_name.status_code == 422 and "trop long" in long_name.json()["message"]
    assert document_count(client) == count


def test_an_administrator_of_another_commune_cannot_import_there(
    admin_client: TestClient,
) -> None:
    elsewhere = TestClient(admin_client.app)
    sign_in(elsewhere, role="admin", tenant_id=OTHER_TENANT)
    count = document_count(admin_client)
    refused = upload(elsewhere, "a.md", b"# Horaires\n\nDe 9 h a 17 h.")
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    # Refused before the body is read: a file too large gets the same answer.
    big = upload(elsewhere, "a.md", b"a" * (MAX_BYTES + 1))
    assert big.status_code == 404
    assert document_count(admin_client) == count


# -- over a real server -------------------------------------------------------------------


@pytest.fixture
def live_admin(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """A real server (fake embeddings: the test is about the HTTP body) and the headers of a
    signed-in administrator of the demo town."""
    settings = make_settings(tmp_path, embeddings={"backend": "fake"})
    services = Services(settings, classifier=FakeRequestClassifier())
    with serve_app(create_app(services=services)) as port:
        email = "admin-envoi@val-fleuri.example"
        services.auth.accounts.create_agent(
            "demo", email, "Administratrice", role="admin", password=TEST_PASSWORD
        )
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            login = {"email": email, "password": TEST_PASSWORD, "tenant": "demo"}
            signed = client.post("/api/v1/auth/login", json=login)
            signed.raise_for_status()
            cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        yield port, {"Cookie": cookie, "X-CSRF-Token": signed.json()["csrf_token"]}


def answer_to(port: int, head: str, body_parts: Iterator[bytes]) -> tuple[int, dict]:
    """Send a request head and body parts on a raw socket, stop, and read the answer: if the
    server waited for a body that never ends, the read times out and the test fails."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode("latin-1"))
        for part in body_parts:
            sock.sendall(part)
        answer = sock.makefile("rb")
        status = int(answer.readline().split()[1])
        length = 0
        while (line := answer.readline().strip()) != b"":
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, json.loads(answer.read(length))


def request_head(headers: dict[str, str], *extra: str) -> str:
    lines = [
        f"POST {KB}/imports HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: multipart/form-data; boundary=frontiere",
        *(f"{k}: {v}" for k, v in headers.items()),
        *extra,
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


PART_HEAD = (
    b'--frontiere\r\nContent-Disposition: form-data; name="file"; filename="gros.md"\r\n'
    b"Content-Type: text/markdown\r\n\r\n"
)


def test_a_body_declared_past_the_limit_is_refused_before_it_is_sent(
    live_admin: tuple[int, dict[str, str]],
) -> None:
    port, headers = live_admin
    head = request_head(headers, f"Content-Length: {50 * 1024 * 1024}")
    status, body = answer_to(port, head, iter([PART_HEAD]))  # then nothing of the 50 Mo
    assert (status, body) == (413, {"code": "too_large", "message": TOO_LARGE})


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(
    live_admin: tuple[int, dict[str, str]],
) -> None:
    port, headers = live_admin
    piece = b"a" * (256 * 1024)
    pieces = MAX_BYTES // len(piece) + 1  # just past 10 Mo, and the body never ends

    def chunks() -> Iterator[bytes]:
        yield b"%x\r\n%s\r\n" % (len(PART_HEAD), PART_HEAD)
        for _ in range(pieces):
            yield b"%x\r\n%s\r\n" % (len(piece), piece)

    status, body = answer_to(port, request_head(headers, "Transfer-Encoding: chunked"), chunks())
    assert (status, body) == (413, {"code": "too_large", "message": TOO_LARGE})
