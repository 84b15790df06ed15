"""The extractive answer on the small real index: the fact asked for, cited, real figures only."""

from __future__ import annotations

import pytest

from knowledge_base.chunking import chunk_document
from knowledge_base.markdown import load_demo_documents
from retrieval.answer import ABSTAIN_TEXT, check_citations
from retrieval.embeddings import Embedder
from retrieval.extractive import MAX_PASSAGES, ExtractiveAnswer, compose_answer
from retrieval.faithfulness import numbers_faithful, unfaithful_figures
from retrieval.hybrid import HybridRetriever
from retrieval.qdrant_store import QdrantStore
from retrieval.question_intent import read_question
from retrieval.settings import RetrievalSection
from retrieval.sparse import FrenchSparseEncoder
from retrieval.types import NATIONAL_TENANT, Chunk, ScoredChunk

SETTINGS = RetrievalSection()


@pytest.fixture(scope="module")
def retriever(index_store: QdrantStore, embedder: Embedder) -> HybridRetriever:
    return HybridRetriever(index_store, embedder, FrenchSparseEncoder(), SETTINGS)


def answer(retriever: HybridRetriever, question: str) -> tuple[ExtractiveAnswer, list[ScoredChunk]]:
    passages = retriever.search(question, NATIONAL_TENANT, MAX_PASSAGES).chunks
    return compose_answer(question, passages), passages


@pytest.mark.parametrize(
    ("question", "intent", "facts"),
    [
        ("j'ai perdu ma carte d'identité, ça coûte combien de la refaire ?", "cost", ("25 €",)),
        (
            "on m'a volé ma carte d'identité, où faut-il aller ?",
            "place",
            ("commissariat", "gendarmerie"),
        ),
        (
            "il faut quels papiers pour faire un passeport la première fois ?",
            "documents",
            ("photo", "justificatif de domicile"),
        ),
    ],
)
def test_the_fact_asked_for_is_in_the_answer(
    retriever: HybridRetriever, question: str, intent: str, facts: tuple[str, ...]
) -> None:
    result, passages = answer(retriever, question)
    assert result.intent == intent
    assert not result.abstained
    assert any(fact in result.text for fact in facts), result.text
    assert numbers_faithful(result.text, passages)


def test_a_baby_gets_the_childs_case_not_the_adults(retriever: HybridRetriever) -> None:
    result, _ = answer(retriever, "quels papiers pour la carte d'identité de mon bébé ?")
    assert result.cases[0] == "under_15"
    assert not result.abstained
    assert "mineur" in result.text.lower() or "enfant" in result.text.lower(), result.text


@pytest.mark.parametrize(
    "question",
    [
        "je me suis fait voler ma carte d'identité",
        "comment se pacser ?",
        "comment me débarrasser de mes encombrants ?",
        "combien coûte un passeport pour un adulte ?",
    ],
)
def test_each_citation_points_to_the_passage_holding_the_sentence(
    retriever: HybridRetriever, question: str
) -> None:
    result, passages = answer(retriever, question)
    assert not result.abstained
    check = check_citations(result.text, len(passages))
    assert check.grounded and not check.invalid
    assert result.sentences
    for sentence in result.sentences:
        passage = passages[sentence.passage - 1].chunk
        assert passage.document_id == sentence.document_id
        assert sentence.text in passage.text
        assert all(label in f"{passage.heading}\n{passage.text}" for label in sentence.context)
        assert f"{sentence.text} [{sentence.passage}]" in result.text
    documents = [source.document_id for source in result.sources]
    assert len(documents) == len(set(documents))
    assert {s.document_id for s in result.sentences} == set(documents)
    assert all(source.title and source.url for source in result.sources)


def test_service_public_sources_keep_their_attribution(retriever: HybridRetriever) -> None:
    result, _ = answer(retriever, "on m'a volé ma carte d'identité, que faire ?")
    assert result.sources[0].document_id == "F1759"
    assert "Direction de l'information légale et administrative" in result.sources[0].attribution
    assert "service-public.fr" in result.text.splitlines()[-1]


def test_nothing_relevant_gives_an_abstention() -> None:
    unrelated = Chunk(
        id="x",
        tenant_id=NATIONAL_TENANT,
        document_id="F0",
        ordinal=0,
        title="Piscine municipale",
        url="https://example.fr/piscine",
        heading_path=("Horaires",),
        text="La piscine est ouverte du mardi au dimanche de 9 h à 20 h.",
        source="local",
        version="1",
    )
    result = compose_answer("recette de la blanquette de veau", [ScoredChunk(unrelated, 1.0)])
    assert result.abstained and result.text == ABSTAIN_TEXT and not result.sources
    assert compose_answer("combien coûte un passeport ?", []).abstained


def test_residents_words_tell_the_intent() -> None:
    assert read_question("combien de temps pour avoir un passeport").intent == "delay"
    assert read_question("combien coûte un passeport pour un bébé").intent == "cost"
    assert read_question("quels papiers pour le passeport").intent == "documents"
    assert read_question("à qui je m'adresse pour le pacs").intent == "place"
    assert read_question("qui peut déclarer une naissance").intent == "eligibility"
    assert read_question("je me suis fait voler ma carte").intent == "procedure"
    assert read_question("passeport pour ma fille de 16 ans").cases == ("minor",)
    assert read_question("né à l'étranger, que faire").cases == ("born_abroad",)


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("a quelle heure ouvre la mairie le samedi ?", "hours"),
        ("la dechetterie est ouverte le dimanche ?", "hours"),
        ("quel jour passe la poubelle jaune aux Coteaux", "hours"),
        ("c'est quoi l'adresse de la mairie de Val-Fleuri", "place"),
        # « l'adresse » of a registration document is not a place to go to
        ("j'ai déménagé, comment changer l'adresse sur ma carte grise", "procedure"),
        ("qui peut déclarer une naissance le dimanche ?", "eligibility"),
    ],
)
def test_opening_hours_and_addresses_are_read(question: str, intent: str) -> None:
    assert read_question(question).intent == intent


def demo_page(document_id: str) -> list[ScoredChunk]:
    """The demo town's page as the search returns it: its sections, in order, scored alike."""
    (page,) = [d for d in load_demo_documents() if d.id == document_id]
    return [ScoredChunk(chunk, 0.05) for chunk in chunk_document(page)]


@pytest.mark.parametrize(
    ("question", "page", "fact"),
    [
        ("a quelle heure ouvre la mairie le samedi ?", "vf-mairie-horaires", "de 9 h à 12 h"),
        ("c'est quoi l'adresse de la mairie ?", "vf-mairie-horaires", "1 place de la République"),
        # The section headed « Abonnement résident », not the car park's monthly pass that comes
        # first in the page.
        (
            "combien coûte l'abonnement résident pour se garer dans ma rue",
            "vf-stationnement-residentiel",
            "15 € par mois",
        ),
    ],
)
def test_the_section_that_answers_is_chosen_in_the_towns_page(
    question: str, page: str, fact: str
) -> None:
    passages = demo_page(page)
    result = compose_answer(question, passages)
    assert fact in result.text, result.text
    check = check_citations(result.text, len(passages))
    assert check.grounded and not check.invalid


def test_a_sentence_with_a_web_address_is_kept_a_bare_link_is_not() -> None:
    # « Pour contester un FPS, faites d'abord un RAPO … en ligne sur https://… » holds the answer.
    passages = demo_page("vf-stationnement-residentiel")
    result = compose_answer("comment je conteste un FPS ?", passages)
    assert "recours administratif préalable obligatoire" in result.text, result.text
    assert "https://www.val-fleuri.example/contester-fps" in result.text
    hours = compose_answer(
        "comment contacter la mairie en ligne ?", demo_page("vf-mairie-horaires")
    )
    assert "Formulaire de contact en ligne : https://" not in hours.text


PASSAGE = (
    "En Métropole : le passeport coûte 86 €. Pour un enfant de moins de 15 ans : 17 €. "
    "Renseignements au 01 99 00 20 10, à déclarer dans les 5 jours, avant le 1er mars 2026."
)


@pytest.mark.parametrize(
    "stated",
    [
        "Le passeport coûte 86 euros [1].",
        "Le passeport coûte 86 € [1].",
        "Pour un bébé : 17 euros.",
        "Appelez le 01.99.00.20.10.",
        "Déclarez-le dans les cinq jours.",
        "Avant le 01/03/2026.",
    ],
)
def test_the_same_figure_written_otherwise_is_faithful(stated: str) -> None:
    assert numbers_faithful(stated, [PASSAGE])


@pytest.mark.parametrize(
    ("stated", "invented"),
    [
        ("Le passeport coûte 96 € [1].", "96 €"),
        ("Pour un bébé : 27 euros.", "27 euros"),
        ("Appelez le 01 99 00 20 11.", "01 99 00 20 11"),
        ("Déclarez-le dans les 8 jours.", "8 jours"),
        ("Avant le 1er avril 2026.", "1er avril 2026"),
    ],
)
def test_an_invented_figure_is_caught(stated: str, invented: str) -> None:
    assert not numbers_faithful(stated, [PASSAGE])
    assert [figure.text for figure in unfaithful_figures(stated, [PASSAGE])] == [invented]


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        # The search ranks the fiche's « when » sections first; « where » is further down it.
        ("mon fils a 16 ans il doit faire quoi pour le recensement", "mairie"),
        ("c'est quoi comme justificatif de domicile pour la carte d'identité ?", "facture"),
    ],
)
def test_the_best_fiche_is_read_whole(retriever: HybridRetriever, question: str, fact: str) -> None:
    result = retriever.search(question, NATIONAL_TENANT)
    searched, added = result.chunks[: SETTINGS.top_k], result.chunks[SETTINGS.top_k :]
    best = searched[0].chunk.document_id
    assert added and {p.chunk.document_id for p in added} == {best}
    assert not {p.chunk.id for p in added} & {p.chunk.id for p in searched}
    assert fact not in compose_answer(question, searched).text.lower()  # why it is read whole
    answer = compose_answer(question, result.chunks)
    assert fact in answer.text.lower(), answer.text
    check = check_citations(answer.text, len(result.chunks))
    assert check.grounded and not check.invalid
