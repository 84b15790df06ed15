"""Phone numbers said aloud in French, as speech-to-text writes them, read back into digits."""

from __future__ import annotations

import pytest

from foundation.spoken_numbers import read_phone_number, spoken_runs, write_phone_numbers


@pytest.mark.parametrize(
    ("said", "number"),
    [
        # In pairs, the way most callers say it.
        ("zéro six douze trente-quatre cinquante-six soixante-dix-huit", "06 12 34 56 78"),
        ("zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit", "06 12 34 56 78"),
        ("Zéro six. Douze. Trente-quatre. Cinquante-six. Soixante-dix-huit.", "06 12 34 56 78"),
        # Compound tens, hyphenated or as separate words, with « et ».
        (
            "zéro sept quatre-vingt-douze soixante et onze vingt et un quatre-vingts",
            "07 92 71 21 80",
        ),
        ("zéro un quatre vingt dix neuf zéro zéro dix zéro un", "01 99 00 10 01"),
        ("zéro deux soixante-dix quatre-vingt-un quarante et un dix-sept", "02 70 81 41 17"),
        ("zero neuf quatre-vingt-dix-sept soixante-treize trente et une seize", "09 97 73 31 16"),
        (
            "zéro trois soixante-dix-neuf quatre-vingt-onze cinquante-cinq dix-neuf",
            "03 79 91 55 19",
        ),
        # Digit by digit, with or without commas.
        ("zéro six, un deux, trois quatre, cinq six, sept huit", "06 12 34 56 78"),
        ("zéro six un deux trois quatre cinq six sept huit", "06 12 34 56 78"),
        # The international prefix, said or written.
        (
            "plus trente-trois six douze trente-quatre cinquante-six soixante-dix-huit",
            "06 12 34 56 78",
        ),
        (
            "zéro zéro trente-trois six douze trente-quatre cinquante-six soixante-dix-huit",
            "06 12 34 56 78",
        ),
        ("+33 6 12 34 56 78", "06 12 34 56 78"),
        # Digits and words mixed, as speech-to-text writes them.
        ("06 12 trente-quatre 56 78", "06 12 34 56 78"),
        ("c'est le 06, douze, 34, cinquante-six, 78, merci", "06 12 34 56 78"),
        ("0612345678", "06 12 34 56 78"),
        # Hesitations and words around the number.
        (
            "oui alors c'est le zéro six, euh, douze trente-quatre cinquante-six soixante-dix-huit",
            "06 12 34 56 78",
        ),
        ("j'ai deux enfants, mon numéro est le 07 11 22 33 44", "07 11 22 33 44"),
    ],
)
def test_a_number_said_in_french_is_read_as_its_digits(said: str, number: str) -> None:
    assert read_phone_number(said).number == number


@pytest.mark.parametrize(
    ("said", "heard"),
    [
        ("zéro six douze trente-quatre cinquante-six", 8),  # a pair missing
        # Six pairs: which ten digits were meant cannot be told.
        ("zéro six douze trente-quatre cinquante-six soixante-dix-huit quatre-vingt-dix", 12),
        ("zéro zéro douze trente-quatre cinquante-six soixante-dix-huit", 10),  # « 00… »
        ("zéro six un deux trois", 5),
        ("six douze trente-quatre cinquante-six soixante-dix-huit", 9),  # the « zéro » was lost
    ],
)
def test_an_incomplete_or_overlong_number_is_refused_with_the_digits_heard(
    said: str, heard: int
) -> None:
    reading = read_phone_number(said)
    assert reading.number is None
    assert reading.heard_digits == heard


@pytest.mark.parametrize(
    "said",
    [
        "non merci",
        "un deux trois soleil",
        "le vingt-deux mars à dix heures trente",
        "j'ai deux enfants et trois chats",
        "rue des Lilas numéro douze",
    ],
)
def test_other_numbers_are_no_attempt_at_a_phone_number(said: str) -> None:
    assert read_phone_number(said).number is None
    assert read_phone_number(said).heard_digits == 0


def test_a_pause_ends_a_compound_ten() -> None:
    (run,) = spoken_runs("vingt, deux et vingt-deux")
    assert run.groups == ("20", "2", "22")


def test_the_spoken_number_is_written_in_digits_and_the_rest_stays() -> None:
    said = "Bonjour, rappelez-moi au zéro six douze trente-quatre cinquante-six soixante-dix-huit."
    assert write_phone_numbers(said) == "Bonjour, rappelez-moi au 06 12 34 56 78."
    ordinary = "Le lampadaire du 12 rue des Lilas est en panne depuis deux jours."
    assert write_phone_numbers(ordinary) == ordinary
    overlong = "zéro six douze trente-quatre cinquante-six soixante-dix-huit quatre-vingt-dix"
    assert write_phone_numbers(overlong) == overlong
