"""The case-intake dialogue's understanding of residents' words (no database)."""

from __future__ import annotations

import pytest

from contact_center.conversation.intake import (
    IntakeState,
    asks_case_status,
    find_contact,
    find_place,
    find_tracking_code,
    is_cancel,
    is_no,
    is_report,
    is_urgent,
    is_yes,
    summarise,
)


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("Un lampadaire est en panne rue des Lilas", "voirie"),
        ("il y a un gros nid de poule au 12 avenue Victor Hugo", "voirie"),
        ("dépôt sauvage de gravats derrière le gymnase", "proprete_dechets"),
        ("les poubelles n'ont pas été ramassées et débordent rue Pasteur", "proprete_dechets"),
        ("je veux signaler des tags sur le mur de l'école", "proprete_dechets"),
        ("une voiture ventouse est garée sur ma place depuis un mois", "stationnement"),
    ],
)
def test_reports_open_a_case(text: str, service: str) -> None:
    assert is_report(text, service)


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("Comment jeter un vieux matelas ?", "proprete_dechets"),
        ("Mon voisin fait trop de bruit la nuit, que faire ?", "tranquillite_publique"),
        ("Quels sont les jours de collecte des encombrants ?", "proprete_dechets"),
        ("J'ai perdu ma carte d'identité", "titres_identite"),
        ("ma carte grise est cassée en deux", "hors_commune"),
    ],
)
def test_questions_and_other_services_do_not(text: str, service: str) -> None:
    assert not is_report(text, service)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("Un lampadaire est en panne rue des Lilas", "rue des Lilas"),
        ("nid de poule au 12 avenue Victor Hugo", "au 12 avenue Victor Hugo"),
        ("dépôt sauvage devant l'école Jules-Ferry, c'est sale", "devant l'école Jules-Ferry"),
        ("14 bis rue Pasteur", "14 bis rue Pasteur"),
        ("à côté de chez moi", None),
    ],
)
def test_places_are_taken_in_the_residents_own_spelling(text: str, place: str | None) -> None:
    assert find_place(text) == place


def test_contacts_are_found_in_free_text() -> None:
    assert find_contact("c'est jean.dupont@example.fr, ou le 06 12 34 56 78") == (
        "jean.dupont@example.fr",
        "06 12 34 56 78",
    )
    assert find_contact("non merci") == (None, None)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Où en est ma demande 7K3M-Q9XW-2B ?", "7K3M-Q9XW-2B"),
        ("mon code : 7k3m q9xw 2b", "7K3M-Q9XW-2B"),
        ("le code 7K3MQ9XW2B", "7K3M-Q9XW-2B"),
        ("un lampadaire est en panne", None),
        ("signalement du 12/11/2026", None),
        ("Je suis né en 1985 dans la Creuse", None),
    ],
)
def test_tracking_codes_are_read_forgivingly(text: str, code: str | None) -> None:
    assert find_tracking_code(text) == code


def test_a_bare_word_counts_as_a_code_only_when_one_was_asked_for() -> None:
    assert find_tracking_code("abcdefghjk") is None
    assert find_tracking_code("abcdefghjk", whole_message=True) == "ABCD-EFGH-JK"


def test_status_questions_yes_no_cancel_and_urgency() -> None:
    assert asks_case_status("Bonjour, où en est ma demande ?")
    assert asks_case_status("je voudrais le suivi de ma demande")
    assert not asks_case_status("je voudrais faire une demande de passeport")
    assert is_yes("Oui") and is_yes("oui, je confirme") and not is_yes("non")
    assert is_no("non merci") and not is_no("oui")
    assert is_cancel("annuler") and not is_cancel("le lampadaire de la rue")
    assert is_urgent("odeur de gaz dans la rue") and not is_urgent("lampadaire éteint")


def test_summary_is_the_first_sentence_within_the_limit() -> None:
    assert summarise("Lampadaire éteint. Depuis trois jours.") == "Lampadaire éteint."
    long = "mot " * 60
    assert len(summarise(long)) <= 120 and summarise(long).endswith("…")


def test_state_round_trips_and_ignores_other_kinds() -> None:
    state = IntakeState("location", service="voirie", description="lampadaire en panne")
    assert IntakeState.from_json(state.to_json()) == state
    assert IntakeState.from_json({"kind": "handoff"}) is None
    assert IntakeState.from_json(None) is None


@pytest.mark.parametrize(
    ("said", "phone"),
    [
        ("zéro six douze trente-quatre cinquante-six soixante-dix-huit", "06 12 34 56 78"),
        ("06 12 trente-quatre 56 78", "06 12 34 56 78"),
        (
            "plus trente-trois sept quatre-vingt-onze soixante et onze vingt et un dix",
            "07 91 71 21 10",
        ),
        ("six douze trente-quatre", None),  # a fragment is no number
        ("zéro six douze trente", None),
    ],
)
def test_a_number_said_in_words_is_a_contact(said: str, phone: str | None) -> None:
    assert find_contact(said) == (None, phone)
