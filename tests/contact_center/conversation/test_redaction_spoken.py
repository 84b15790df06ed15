"""Phone numbers spoken aloud (transcribed as words) are redacted like typed ones."""

from __future__ import annotations

import pytest

from contact_center.conversation.redaction import contains_personal_data, redact


@pytest.mark.parametrize(
    "spoken",
    [
        "mon numéro est le zéro six douze trente-quatre cinquante-six soixante-dix-huit merci",
        "rappelez-moi au 06 douze 34 cinquante-six 78 s'il vous plaît",
        "c'est le plus trente-trois six douze trente-quatre cinquante-six soixante-dix-huit",
        "zéro un, quatre-vingt-dix-neuf, zéro zéro, dix, zéro un",
        "zéro six un deux trois quatre cinq six sept huit",
        "zéro sept quatre-vingt-douze soixante et onze vingt et un quatre-vingts",
    ],
)
def test_spoken_phone_numbers_are_redacted(spoken: str) -> None:
    redacted = redact(spoken)
    assert "[TÉLÉPHONE]" in redacted
    assert not any(word in redacted for word in ("douze", "trente-quatre", "soixante", "zéro"))
    assert contains_personal_data(spoken)


@pytest.mark.parametrize(
    "ordinary",
    [
        "j'ai deux enfants et trois chats",
        "le vingt-deux mars à dix heures trente",
        "il faut compter quinze jours",
        "un deux trois soleil",
    ],
)
def test_ordinary_numbers_stay(ordinary: str) -> None:
    assert redact(ordinary) == ordinary


@pytest.mark.parametrize(
    "spoken",
    [
        # Twelve digits: no number the intake would take, still a number to keep out of records.
        "zéro six douze trente-quatre cinquante-six soixante-dix-huit quatre-vingt-dix",
        "zéro six, euh, douze, trente quatre, cinquante six, soixante dix huit",
        "zéro zéro trente-trois six douze trente-quatre cinquante-six soixante-dix-huit",
        # A pair missing: the caller is asked again, the fragment is personal data all the same.
        "zéro six douze trente-quatre cinquante-six",
    ],
)
def test_spoken_numbers_with_hesitations_or_digits_missing_or_to_spare_are_redacted(
    spoken: str,
) -> None:
    redacted = redact(spoken)
    assert "[TÉLÉPHONE]" in redacted
    assert not any(word in redacted for word in ("douze", "trente", "soixante", "zéro"))
