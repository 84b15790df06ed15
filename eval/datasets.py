"""Evaluation datasets: the JSONL formats a town can bring, their loaders, and the bundled sets.

Every format is JSON Lines: one JSON object per line. Blank lines and lines starting with ``#``
are skipped; fields a format does not name are ignored, so a town can keep its own notes in
the file. A loader validates every line and, if any is malformed, raises :class:`DatasetError`
listing each bad line with its number and the reason; nothing is returned from a bad file.

Retrieval / answers (:func:`load_retrieval_dataset`)::

    {"question": "jai perdu ma carte didentité", "relevant": ["F1344"], "expect": "answer",
     "must_mention_any": ["mairie"], "tenant": "demo", "kind": "injection"}

    question          required, non-empty string: what the resident says
    expect            required: "answer", "abstain" (out of scope, injection) or "handoff"
    relevant          document ids that answer the question (a hit is any one of them);
                      required, non-empty, when expect is "answer" and must_mention_any is empty
    must_mention_any  optional: the answer must contain at least one of these strings
    tenant            optional: the commune whose documents are searched (default: national)
    kind              optional tag for reports, e.g. "injection" or "out_of_scope"

Routing (:func:`load_routing_dataset`): ``{"text": "...", "service": "etat_civil"}``, read as the
request classifier's own :class:`~routing.classifier.LabelledExample`.

Speech (:func:`load_speech_dataset`): ``{"audio": "clips/a.wav", "transcript": "..."}``; the
audio path is relative to the dataset file; an empty or null transcript means the clip must
produce no text (noise, out-of-vocabulary speech). Optional ``licence``.

Conversations (:func:`load_conversation_dataset`)::

    {"id": "lost-id-card", "tenant": "demo", "turns": [
        {"user": "j'ai perdu ma carte", "expect": {"action": "answer", "source_any": ["F1344"]}},
        {"user": "je veux parler à quelqu'un", "expect": {"action": "handoff", "reason": "..."}}]}

    tenant      optional: the commune the conversation is opened with (default: the run's)
    action      required: "answer", "abstain", "handoff" or "file_case"
    source_any  optional: the answer must cite at least one of these document ids
    reason      optional, free text (why this outcome is expected)

Adapters for the public sets in ``shared/data`` live in :mod:`eval.public_datasets`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from foundation.errors import ImportFormatError, SourceUnavailableError
from routing.classifier import LabelledExample

Expect = Literal["answer", "abstain", "handoff"]
TurnAction = Literal["answer", "abstain", "handoff", "file_case"]

EXPECT_VALUES: tuple[str, ...] = ("answer", "abstain", "handoff")
TURN_ACTIONS: tuple[str, ...] = ("answer", "abstain", "handoff", "file_case")

#: Folder of the datasets shipped with the package.
BUNDLED_DATA_DIR = Path(__file__).resolve().parent / "data"
#: The team's own French questions about service-public.fr fiches (national tenant).
QUESTIONS_FR = BUNDLED_DATA_DIR / "questions_fr.jsonl"
#: Questions about the demo town's own pages (tenant ``demo``).
QUESTIONS_DEMO_TOWN = BUNDLED_DATA_DIR / "questions_demo_town.jsonl"

T = TypeVar("T")


@dataclass(frozen=True)
class LineProblem:
    """Why one line of a dataset was refused (``line`` counts from 1)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class DatasetError(ImportFormatError):
    """A dataset file has malformed lines; ``problems`` lists each of them."""

    def __init__(self, path: Path | str, problems: Iterable[LineProblem]) -> None:
        self.path = Path(path)
        self.problems = tuple(problems)
        listing = "\n".join(f"  {problem}" for problem in self.problems)
        count = len(self.problems)
        noun = "line" if count == 1 else "lines"
        super().__init__(f"{self.path}: {count} malformed {noun}\n{listing}")


class InvalidRecord(ValueError):
    """Raised by a record parser: the message becomes the reason reported for the line."""


@dataclass(frozen=True)
class RetrievalExample:
    """A question with the documents that answer it and the expected behaviour."""

    question: str
    relevant: tuple[str, ...]
    expect: Expect
    must_mention_any: tuple[str, ...] = ()
    tenant: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class SpeechExample:
    """An audio clip and its reference transcript (empty: the clip must produce no text)."""

    audio: Path
    transcript: str
    licence: str | None = None


@dataclass(frozen=True)
class TurnExpectation:
    """What the contact centre should do after one resident turn."""

    action: TurnAction
    source_any: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class ConversationTurn:
    """One resident message and the expected outcome."""

    user: str
    expect: TurnExpectation


@dataclass(frozen=True)
class Conversation:
    """A scripted multi-turn conversation (``tenant``: its commune, if not the run's)."""

    id: str
    turns: tuple[ConversationTurn, ...]
    tenant: str | None = None


# --- field readers: each raises InvalidRecord with a reason a town can act on ----------------


def required_str(record: dict[str, Any], name: str) -> str:
    """Return ``record[name]``, a non-empty string, stripped."""
    if name not in record:
        raise InvalidRecord(f"missing field {name!r}")
    value = record[name]
    if not isinstance(value, str):
        raise InvalidRecord(f"field {name!r} must be a string, got {_type_name(value)}")
    if not value.strip():
        raise InvalidRecord(f"field {name!r} is empty")
    return value.strip()


def optional_str(record: dict[str, Any], name: str) -> str | None:
    """Return ``record[name]`` if present and not null, checking that it is a string."""
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"field {name!r} must be a string, got {_type_name(value)}")
    return value.strip() or None


def str_list(record: dict[str, Any], name: str) -> tuple[str, ...]:
    """Return ``record[name]``, a list of non-empty strings (empty tuple when absent)."""
    value = record.get(name)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidRecord(f"field {name!r} must be a list of strings, got {_type_name(value)}")
    for position, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise InvalidRecord(f"field {name!r}: item {position} must be a non-empty string")
    return tuple(item.strip() for item in value)


def choice(record: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    """Return ``record[name]``, which must be one of ``allowed``."""
    value = required_str(record, name)
    if value not in allowed:
        raise InvalidRecord(f"unknown {name} value {value!r} (expected one of {list(allowed)})")
    return value


def _type_name(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


# --- the generic JSONL reader -------------------------------------------------------------------


def read_lines(path: Path | str) -> list[str]:
    """Read a dataset file as text lines (UTF-8, an optional BOM tolerated)."""
    try:
        return Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceUnavailableError(f"cannot read dataset {path}: {exc}") from exc


def load_jsonl(path: Path | str, parse: Callable[[dict[str, Any]], T]) -> list[T]:
    """Parse every record of a JSONL file with ``parse``, or report every malformed line.

    Args:
        path: The dataset file.
        parse: Turns one JSON object into a typed example; raises :class:`InvalidRecord`.

    Returns:
        The examples, in file order.

    Raises:
        DatasetError: One or more lines are malformed (all of them are listed).
        SourceUnavailableError: The file cannot be read.
    """
    examples: list[T] = []
    problems: list[LineProblem] = []
    for number, raw in enumerate(read_lines(path), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(LineProblem(number, f"bad JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(record, dict):
            problems.append(
                LineProblem(number, f"expected a JSON object, got {_type_name(record)}")
            )
            continue
        try:
            examples.append(parse(record))
        except InvalidRecord as exc:
            problems.append(LineProblem(number, str(exc)))
    if problems:
        raise DatasetError(path, problems)
    return examples


# --- record parsers -----------------------------------------------------------------------------


def parse_retrieval_record(record: dict[str, Any]) -> RetrievalExample:
    """Build a :class:`RetrievalExample` from one JSON object (see the module docstring)."""
    question = required_str(record, "question")
    expect = choice(record, "expect", EXPECT_VALUES)
    relevant = str_list(record, "relevant")
    must_mention = str_list(record, "must_mention_any")
    if expect == "answer" and not relevant and not must_mention:
        raise InvalidRecord(
            "an 'answer' example needs 'relevant' ids or 'must_mention_any' to be scored"
        )
    return RetrievalExample(
        question=question,
        relevant=relevant,
        expect=cast(Expect, expect),
        must_mention_any=must_mention,
        tenant=optional_str(record, "tenant"),
        kind=optional_str(record, "kind"),
    )


def parse_routing_record(record: dict[str, Any]) -> LabelledExample:
    """Build a :class:`~routing.classifier.LabelledExample` from one JSON object."""
    return LabelledExample(
        text=required_str(record, "text"), service=required_str(record, "service")
    )


def _parse_turn(position: int, turn: object) -> ConversationTurn:
    if not isinstance(turn, dict):
        raise InvalidRecord(f"turn {position}: expected an object, got {_type_name(turn)}")
    try:
        user = required_str(turn, "user")
        expect = turn.get("expect")
        if not isinstance(expect, dict):
            raise InvalidRecord(
                "missing field 'expect'"
                if expect is None
                else f"field 'expect' must be an object, got {_type_name(expect)}"
            )
        expectation = TurnExpectation(
            action=cast(TurnAction, choice(expect, "action", TURN_ACTIONS)),
            source_any=str_list(expect, "source_any"),
            reason=optional_str(expect, "reason"),
        )
    except InvalidRecord as exc:
        raise InvalidRecord(f"turn {position}: {exc}") from None
    return ConversationTurn(user=user, expect=expectation)


def parse_conversation_record(record: dict[str, Any]) -> Conversation:
    """Build a :class:`Conversation` from one JSON object; turns are numbered from 1."""
    conversation_id = required_str(record, "id")
    turns = record.get("turns")
    if not isinstance(turns, list) or not turns:
        raise InvalidRecord(
            "missing field 'turns'" if turns is None else "field 'turns' must be a non-empty list"
        )
    parsed = tuple(_parse_turn(position, turn) for position, turn in enumerate(turns, start=1))
    return Conversation(id=conversation_id, turns=parsed, tenant=optional_str(record, "tenant"))


def speech_parser(
    base_dir: Path, *, check_files: bool
) -> Callable[[dict[str, Any]], SpeechExample]:
    """Return a parser of speech records whose audio paths are relative to ``base_dir``."""

    def parse(record: dict[str, Any]) -> SpeechExample:
        audio = base_dir / required_str(record, "audio")
        if "transcript" not in record:
            raise InvalidRecord("missing field 'transcript'")
        transcript = record["transcript"]
        if transcript is not None and not isinstance(transcript, str):
            raise InvalidRecord(
                f"field 'transcript' must be a string or null, got {_type_name(transcript)}"
            )
        if check_files and not audio.is_file():
            raise InvalidRecord(f"audio file not found: {audio}")
        return SpeechExample(
            audio=audio,
            transcript=(transcript or "").strip(),
            licence=optional_str(record, "licence"),
        )

    return parse


# --- public loaders -----------------------------------------------------------------------------


def load_retrieval_dataset(path: Path | str) -> list[RetrievalExample]:
    """Load a retrieval / answer dataset (format in the module docstring).

    Raises:
        DatasetError: Lists every malformed line with its number and the reason.
    """
    return load_jsonl(path, parse_retrieval_record)


def load_routing_dataset(path: Path | str) -> list[LabelledExample]:
    """Load a routing dataset: ``{"text", "service"}`` per line.

    Raises:
        DatasetError: Lists every malformed line with its number and the reason.
    """
    return load_jsonl(path, parse_routing_record)


def load_speech_dataset(path: Path | str, *, check_files: bool = True) -> list[SpeechExample]:
    """Load a speech dataset: ``{"audio", "transcript"}`` per line, audio relative to the file.

    Args:
        path: The dataset file.
        check_files: Report a line whose audio file does not exist as malformed.

    Raises:
        DatasetError: Lists every malformed line with its number and the reason.
    """
    return load_jsonl(path, speech_parser(Path(path).resolve().parent, check_files=check_files))


def load_conversation_dataset(path: Path | str) -> list[Conversation]:
    """Load scripted conversations; conversation ids must be unique in the file.

    Raises:
        DatasetError: Lists every malformed line with its number and the reason.
    """
    seen: set[str] = set()

    def parse(record: dict[str, Any]) -> Conversation:
        conversation = parse_conversation_record(record)
        if conversation.id in seen:
            raise InvalidRecord(f"duplicate conversation id {conversation.id!r}")
        seen.add(conversation.id)
        return conversation

    return load_jsonl(path, parse)
