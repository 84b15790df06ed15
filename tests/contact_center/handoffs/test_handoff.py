"""Handoffs to a person in a real web-chat conversation: each reason, the queue, the silence.

Real app, real request classifier, SQLite and PostgreSQL, fake LLM; the clock of the handoff
desk is fixed inside or outside the agents' hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contact_center.app import create_app
from contact_center.handoffs.queue import HandoffConflictError
from contact_center.services import Services
from contact_center.testing.chat_harness import ChatHarness
from retrieval.embeddings import Embedder
from retrieval.testing import FakeChatModel
from routing.classifier import RequestClassifier
from routing.handoff import HandoffDecision
from tests.conftest import conversation_services

#: Wednesday 25 November 2026, 10:00 in Paris: agents are there.
OPEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
#: The same day at 21:00 in Paris: nobody is.
CLOSED = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def build_client(
    tmp_path: Path,
    indexed_qdrant: Path,
    database_url: str,
    embedder: Embedder,
    classifier: RequestClassifier,
    **services_kwargs: Any,
) -> TestClient:
    services = conversation_services(
        tmp_path, indexed_qdrant, database_url, embedder, classifier, **services_kwargs
    )
    assert services.engine.desk is not None
    services.engine.desk.clock = lambda: OPEN
    return TestClient(create_app(services=services))


@pytest.fixture
def app_client(
    tmp_path: Path,
    indexed_qdrant: Path,
    database_url: str,
    embedder: Embedder,
    request_classifier: RequestClassifier,
) -> Iterator[TestClient]:
    with build_client(
        tmp_path, indexed_qdrant, database_url, embedder, request_classifier
    ) as client:
        yield client


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def last_record(client: TestClient, chat: ChatHarness) -> dict[str, Any]:
    return services_of(client).conversations.records(chat.id)[-1]


def test_asking_for_a_person_queues_the_conversation_with_a_summary(
    app_client: TestClient,
) -> None:
    chat = ChatHarness(app_client)
    chat.send("Un lampadaire est en panne rue des Lilas")
    turn = chat.send("Je veux parler à un agent s'il vous plaît")
    assert turn.done["action"] == "handoff"
    assert "Je transmets notre conversation à un agent" in turn.done["answer"]
    assert "vous n'aurez pas à répéter" in turn.done["answer"]
    record = last_record(app_client, chat)
    assert record["handoff_reason"] == "resident_request"
    (waiting,) = services_of(app_client).handoffs.queue("demo")
    assert waiting.conversation_id == chat.id
    assert waiting.reason == "resident_request"
    assert "Demande de l'usager" in waiting.summary
    assert "lampadaire est en panne" in waiting.summary  # the agent sees what was said


def test_the_assistant_stays_silent_until_the_agent_hands_back(app_client: TestClient) -> None:
    services = services_of(app_client)
    chat = ChatHarness(app_client)
    chat.send("Je voudrais parler à un conseiller")
    silent = chat.send("Vous êtes là ?")
    assert silent.done["action"] == "with_agent"
    assert silent.done["answer"] == "" and not silent.of("token")
    roles = [m["role"] for m in chat.reload()["messages"]]
    assert roles == ["user", "assistant", "user"]  # the resident's words are kept

    (handoff,) = services.handoffs.queue("demo")
    services.handoffs.claim("demo", handoff.id, "agent-1")
    services.handoffs.post_agent_message("demo", handoff.id, "agent-1", "Bonjour, je vous écoute.")
    assert chat.reload()["messages"][-1]["content"] == "Bonjour, je vous écoute."
    assert chat.send("Merci !").done["action"] == "with_agent"

    services.handoffs.hand_back("demo", handoff.id, "agent-1")
    answered = chat.send("J'ai perdu ma carte d'identité, que faire ?")
    assert answered.done["action"] is None and answered.done["sources"]


@pytest.mark.parametrize(
    ("message", "reason", "service", "priority"),
    [
        ("C'est inadmissible, personne ne répond à mes courriers !", "complaint", None, "high"),
        ("passez-moi un conseiller humain svp", "resident_request", None, "normal"),
        ("y a quelqu un de la mairie qui peut me repondre", "resident_request", None, "normal"),
        ("jveux parler a un agnet", "resident_request", None, "normal"),
        ("j'en ai marre, toujours pas de réponse à mon courrier", "complaint", None, "high"),
        ("jai envie de mourir", "sensitive", "action_sociale", "urgent"),
        (
            "Je suis à la rue ce soir avec mes deux enfants, nous n'avons nulle part où dormir",
            "sensitive",
            "action_sociale",
            "urgent",
        ),
    ],
)
def test_complaints_and_distress_go_to_a_person_at_once(
    app_client: TestClient, message: str, reason: str, service: str | None, priority: str
) -> None:
    chat = ChatHarness(app_client)
    turn = chat.send(message)
    assert turn.done["action"] == "handoff"
    assert last_record(app_client, chat)["handoff_reason"] == reason
    (waiting,) = services_of(app_client).handoffs.queue("demo")
    assert waiting.priority == priority
    if service:
        assert waiting.service == service
    if reason == "sensitive":
        assert "115" in turn.done["answer"] and "112" in turn.done["answer"]


@pytest.mark.parametrize(
    "message",
    [
        "Comment contacter le conseiller du salarié ?",
        "je dois parler à mon conseiller bancaire pour un prêt, quels papiers fournir ?",
    ],
)
def test_someone_else_s_advisor_is_searched_not_handed_off_at_once(
    app_client: TestClient, message: str
) -> None:
    chat = ChatHarness(app_client)
    chat.send(message)
    record = last_record(app_client, chat)
    assert record["retrieved"]  # the assistant looked for an answer
    assert record["handoff_reason"] not in {"resident_request", "complaint", "sensitive"}


def test_a_request_the_knowledge_base_cannot_answer_goes_to_its_service(
    app_client: TestClient,
) -> None:
    chat = ChatHarness(app_client)
    turn = chat.send("J'ai perdu mes clés dans la rue, où sont les objets trouvés ?")
    assert turn.done["abstained"] is True
    assert turn.done["action"] == "handoff"
    assert last_record(app_client, chat)["handoff_reason"] == "missing_knowledge"
    (waiting,) = services_of(app_client).handoffs.queue("demo")
    assert waiting.service == "affaires_generales"


def test_an_unsure_routing_without_an_answer_goes_to_triage(app_client: TestClient) -> None:
    chat = ChatHarness(app_client)
    turn = chat.send("Quels sont les horaires de la piscine ?")
    assert turn.done["action"] == "handoff"
    assert last_record(app_client, chat)["handoff_reason"] == "low_confidence"
    (waiting,) = services_of(app_client).handoffs.queue("demo")
    assert waiting.service == "affaires_generales"


def test_out_of_scope_is_declined_once_then_handed_off(app_client: TestClient) -> None:
    chat = ChatHarness(app_client)
    first = chat.send("Quelle est la recette de la blanquette de veau ?")
    assert first.done["abstained"] is True and first.done["action"] is None
    second = chat.send("Et celle du bœuf bourguignon ?")
    assert second.done["action"] == "handoff"
    assert last_record(app_client, chat)["handoff_reason"] == "repeated_failure"


def test_a_failing_model_leaves_the_resident_the_official_text(
    tmp_path: Path,
    indexed_qdrant: Path,
    database_url: str,
    embedder: Embedder,
    request_classifier: RequestClassifier,
) -> None:
    with build_client(
        tmp_path, indexed_qdrant, database_url, embedder, request_classifier,
        chat_model=FakeChatModel.failing(after=2), answer_mode="generated",
    ) as client:  # fmt: skip
        chat = ChatHarness(client)
        turn = chat.send("J'ai perdu ma carte d'identité, que faire ?")
        assert turn.of("error") == []
        assert not turn.done["abstained"] and "[1]" in turn.done["answer"]
        assert "incident technique" not in turn.done["answer"]
        record = last_record(client, chat)
        assert (record["answer_path"], record["path_reason"]) == ("extractive", "llm_failure")
        assert record["handoff_reason"] is None


def test_out_of_hours_the_resident_is_offered_a_callback_case(app_client: TestClient) -> None:
    services = services_of(app_client)
    assert services.engine.desk is not None
    services.engine.desk.clock = lambda: CLOSED
    chat = ChatHarness(app_client)
    offer = chat.send("Je veux parler à un agent")
    assert offer.done["action"] == "callback_offered"
    assert "ne sont pas disponibles en ce moment" in offer.done["answer"]
    assert services.handoffs.queue("demo") == []
    recap = chat.send("rappelez-moi au 06 12 34 56 78")
    assert "06 12 34 56 78" in recap.done["answer"]
    filed = chat.send("oui")
    assert filed.done["action"] == "case_filed"
    case = services.cases.get("demo", last_record(app_client, chat)["case_id"])
    assert case is not None and case.summary.startswith("Rappel demandé")


def test_queue_order_claims_and_closing(database_url: str, tmp_path: Path) -> None:
    from contact_center.conversation.store import ConversationStore
    from contact_center.db import Database, migrate
    from contact_center.handoffs.queue import HandoffStore

    database = Database(database_url)
    migrate(database.engine)
    conversations = ConversationStore(database)
    times = iter([OPEN.replace(minute=m) for m in range(10)])
    store = HandoffStore(database, clock=lambda: next(times))
    ids = [conversations.create("demo").id for _ in range(3)]
    normal = store.open(tenant_id="demo", conversation_id=ids[0], service="voirie",
                        decision=HandoffDecision("resident_request"), summary="a")  # fmt: skip
    urgent = store.open(tenant_id="demo", conversation_id=ids[1], service="action_sociale",
                        decision=HandoffDecision("sensitive", "urgent"), summary="b")  # fmt: skip
    store.open(tenant_id="demo", conversation_id=ids[2], service="etat_civil",
               decision=HandoffDecision("complaint", "high"), summary="c")  # fmt: skip
    assert [h.priority for h in store.queue("demo")] == ["urgent", "high", "normal"]
    assert [h.id for h in store.queue("demo", services=["voirie"])] == [normal.id]
    assert store.queue("autreville") == []

    store.claim("demo", urgent.id, "agent-1")
    with pytest.raises(HandoffConflictError):
        store.claim("demo", urgent.id, "agent-2")
    with pytest.raises(HandoffConflictError):
        store.post_agent_message("demo", urgent.id, "agent-2", "Je prends la main")
    store.post_agent_message("demo", urgent.id, "agent-1", "Bonjour")
    closed = store.close("demo", urgent.id, "agent-1", "resolved_first_contact")
    assert closed.status == "closed" and conversations.state(ids[1]) is None

    moved = store.transfer("demo", normal.id, "agent-1", "proprete_dechets", "encombrants")
    assert moved.service == "proprete_dechets" and moved.status == "waiting"
    figures = store.figures("demo")
    assert figures.waiting == 2 and figures.by_reason["sensitive"] == 1
    assert figures.first_contact_resolution == 1.0
    assert figures.median_first_response_s == 180.0  # opened at 10:01, answered at 10:04
    database.dispose()


def test_an_unexpected_fault_in_the_answer_apologises_hands_off_and_keeps_the_turn(
    app_client: TestClient,
) -> None:
    from contact_center.testing.chat_harness import FailingValidatedAnswers

    engine = services_of(app_client).engine
    engine.validated_answers = FailingValidatedAnswers()  # type: ignore[assignment]
    chat = ChatHarness(app_client)
    turn = chat.send("Combien coûte un passeport ?")
    (error,) = turn.of("error")
    assert "incident technique" in error["message"]
    assert "Je transmets notre conversation" in error["message"]
    assert turn.done is not None  # the turn completed: stored, with its record
    record = last_record(app_client, chat)
    assert (record["reason"], record["handoff_reason"]) == ("answer_failure", "tool_failure")


def test_a_failing_action_apologises_and_hands_off(app_client: TestClient) -> None:
    from contact_center.testing.chat_harness import FailingActions

    services_of(app_client).engine.actions = FailingActions()  # type: ignore[assignment]
    chat = ChatHarness(app_client)
    turn = chat.send("Un lampadaire est en panne rue des Lilas")
    (error,) = turn.of("error")
    assert "incident technique" in error["message"]
    assert "Je transmets notre conversation" in error["message"]
    assert last_record(app_client, chat)["handoff_reason"] == "tool_failure"
