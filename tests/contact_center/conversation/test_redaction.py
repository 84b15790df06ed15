"""Personal data never reaches records or logs."""

import pytest

from contact_center.conversation.redaction import contains_personal_data, redact


@pytest.mark.parametrize(
    ("text", "label", "secret"),
    [
        ("écrivez à jeanne.dupont@orange.fr", "[COURRIEL]", "jeanne.dupont@orange.fr"),
        ("mon portable 06 12 34 56 78", "[TÉLÉPHONE]", "06 12 34 56 78"),
        ("fixe : 01.45.67.89.10", "[TÉLÉPHONE]", "01.45.67.89.10"),
        ("depuis l'étranger +33 6 12 34 56 78", "[TÉLÉPHONE]", "6 12 34 56 78"),
        ("sécu 1 85 05 78 006 084 36", "[NIR]", "006 084"),
        ("IBAN FR76 3000 6000 0112 3456 7890 189", "[IBAN]", "3000 6000"),
        ("carte 4970 1012 3456 7890", "[CARTE_BANCAIRE]", "4970 1012"),
    ],
)
def test_personal_data_is_replaced_by_a_label(text: str, label: str, secret: str) -> None:
    redacted = redact(text)
    assert label in redacted
    assert secret not in redacted
    assert contains_personal_data(text)


def test_ordinary_text_is_left_alone() -> None:
    text = "J'habite 12 rue des Lilas depuis 2019, la mairie ouvre à 8 h 30."
    assert redact(text) == text
    assert not contains_personal_data(text)
