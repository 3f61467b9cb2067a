"""The published MEMTRACK archive, converted to memos' instance format.

Layout read: `test_configs/config_<id>.yaml` whose `benchmark` mapping holds `questions`
(strings, or mappings with `question` and optionally `after` / `asked_at` / `category` /
`evidence` / `answer`), `expected_answers` (one per question: a string or a list of
acceptable strings) and `event_history` (a path to the events, relative to the archive
root or to the config; default `test_event_histories/event_history_<id>.json`). The events
are a JSON list (or an object holding one under `events` / `event_history`) of objects
with `timestamp` such as `20241202T0900`, `platform`, and platform-specific fields.

Each event becomes `{id, timestamp, platform, actor, channel, text, meta}`: `text` is the
event's main text (`text`, `message`, `content`, `body`, ...), followed by its other scalar
fields as `key: value` lines so that a text-only backend sees everything the structured
one does; those fields are also kept in `meta`. `generation_meta_data` describes how the
benchmark was made, not what happened, so it is dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from memos.errors import InvalidInputError
from memos.eval.memtrack.format import (
    DEFAULT_CATEGORY,
    Event,
    Instance,
    Question,
    instance_from_dict,
    parse_timestamp,
)

CONFIGS = "test_configs"
HISTORIES = "test_event_histories"
_CONFIG_NAME = re.compile(r"^config_(?P<id>.+)\.ya?ml$")
_TEXT_FIELDS = ("text", "message", "content", "body", "description", "title", "summary")
_ACTOR_FIELDS = ("actor", "user", "author", "sender", "username", "creator", "committer")
_ID_FIELDS = ("id", "event_id", "message_id", "sha", "commit")
_DROPPED = frozenset({"generation_meta_data", "timestamp", "platform", "channel"})


def is_archive(path: Path) -> bool:
    """A folder laid out like the MEMTRACK release (it has `test_configs/`)."""
    return path.is_dir() and (path / CONFIGS).is_dir()


def load_archive(root: Path) -> list[Instance]:
    """Every `test_configs/config_<id>.yaml` of an archive, converted.

    Raises:
        InvalidInputError: no configs, or a config or its events cannot be read (the
            message names the file).
    """
    configs = sorted(p for p in (root / CONFIGS).iterdir() if _CONFIG_NAME.match(p.name))
    if not configs:
        raise InvalidInputError(f"{root / CONFIGS}: no config_<id>.yaml files")
    return [convert_config(path, root) for path in configs]


def _yaml(path: Path) -> Mapping[str, Any]:
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(document, Mapping) or not isinstance(document.get("benchmark"), Mapping):
        raise InvalidInputError(f"{path}: $.benchmark: missing; a MEMTRACK config has one")
    return document


def convert_config(path: Path, root: Path | None = None) -> Instance:
    """One MEMTRACK config and its event history as an `Instance`.

    Raises:
        InvalidInputError: the config or the events are malformed (file and path named).
    """
    root = root or path.parent.parent
    match = _CONFIG_NAME.match(path.name)
    config_id = match["id"] if match else path.stem
    benchmark = _yaml(path)["benchmark"]
    history = _history_path(benchmark.get("event_history"), config_id, path, root)
    events = [_event(raw, i, history) for i, raw in enumerate(_events(history))]
    questions = _questions(benchmark, events, path)
    document = {
        "id": f"memtrack-{config_id}",
        "description": f"MEMTRACK {path.name}",
        "events": [e.to_dict() for e in events],
        "questions": [q.to_dict() for q in questions],
    }
    # The converted document goes through the same validator as hand-written ones.
    return instance_from_dict(document, source=str(path))


def _history_path(raw: object, config_id: str, config: Path, root: Path) -> Path:
    if raw is None:
        return root / HISTORIES / f"event_history_{config_id}.json"
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInputError(f"{config}: $.benchmark.event_history: expected a path")
    for base in (root, config.parent, root / HISTORIES):
        if (base / raw).is_file():
            return base / raw
    raise InvalidInputError(
        f"{config}: $.benchmark.event_history: {raw!r} is not a file under {root} or "
        f"{config.parent}"
    )


def _events(path: Path) -> list[object]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(
            f"{path}: no such file; the config's event history should be here"
        ) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"{path}: not valid JSON ({error})") from None
    if isinstance(document, Mapping):
        document = document.get("events", document.get("event_history"))
    if not isinstance(document, list) or not document:
        raise InvalidInputError(f"{path}: $: expected a non-empty list of events")
    return document


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool) and str(value).strip() != ""


def _first(record: Mapping[str, Any], names: Sequence[str]) -> str | None:
    for name in names:
        value = record.get(name)
        if _scalar(value):
            return str(value).strip()
    return None


def _event(raw: object, index: int, path: Path) -> Event:
    where = f"{path}: $[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{where}: expected an event object")
    try:
        when = parse_timestamp(raw.get("timestamp"))
    except InvalidInputError as error:
        raise InvalidInputError(f"{where}.timestamp: {error}") from None
    main = next((n for n in _TEXT_FIELDS if _scalar(raw.get(n))), None)
    actor_field = next((n for n in _ACTOR_FIELDS if _scalar(raw.get(n))), None)
    meta = {
        str(k): v
        for k, v in raw.items()
        if k not in _DROPPED and k not in (main, actor_field, "id") and v is not None
    }
    details = [f"{k}: {v}" for k, v in meta.items() if _scalar(v) and k not in _ID_FIELDS]
    body = [str(raw[main]).strip()] if main else []
    text = "\n".join(body + details)
    if not text:
        raise InvalidInputError(f"{where}: the event holds no text or fields to read")
    return Event(
        id=_first(raw, _ID_FIELDS) or f"e{index + 1}",
        timestamp=when,
        platform=(_first(raw, ("platform", "source", "tool")) or "unknown").lower(),
        actor=str(raw[actor_field]).strip() if actor_field else "unknown",
        text=text,
        channel=_first(raw, ("channel",)),
        meta=meta,
    )


def _questions(benchmark: Mapping[str, Any], events: Sequence[Event], path: Path) -> list[Question]:
    asked = benchmark.get("questions")
    expected = benchmark.get("expected_answers")
    if not isinstance(asked, list) or not asked:
        raise InvalidInputError(f"{path}: $.benchmark.questions: expected a non-empty list")
    if expected is None:
        expected = [None] * len(asked)
    if not isinstance(expected, list) or len(expected) != len(asked):
        raise InvalidInputError(
            f"{path}: $.benchmark.expected_answers: expected a list with one answer per "
            f"question ({len(asked)})"
        )
    out: list[Question] = []
    for index, (raw, listed) in enumerate(zip(asked, expected, strict=True)):
        where = f"{path}: $.benchmark.questions[{index}]"
        spec: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {"question": raw}
        text = spec.get("question", spec.get("text"))
        if not _scalar(text):
            raise InvalidInputError(f"{where}: expected question text")
        answer = listed if listed is not None else spec.get("answer", spec.get("expected_answer"))
        answers = [str(a).strip() for a in (answer if isinstance(answer, list) else [answer])]
        if not answers or not all(a and a != "None" for a in answers):
            raise InvalidInputError(
                f"{path}: $.benchmark.expected_answers[{index}]: expected an answer"
            )
        evidence = spec.get("evidence", [])
        out.append(
            Question(
                id=str(spec.get("id", f"q{index + 1}")),
                question=str(text).strip(),
                answers=tuple(answers),
                after=_after(spec, events, where),
                evidence=tuple(str(e) for e in evidence) if isinstance(evidence, list) else (),
                category=str(spec.get("category", spec.get("type", DEFAULT_CATEGORY))),
            )
        )
    return out


def _after(spec: Mapping[str, Any], events: Sequence[Event], where: str) -> str | None:
    """The event a question follows: named, or the last one at or before `asked_at`."""
    named = spec.get("after", spec.get("after_event"))
    if _scalar(named):
        return str(named)
    moment = spec.get("asked_at", spec.get("timestamp"))
    if moment is None:
        return None
    try:
        cut = parse_timestamp(moment)
    except InvalidInputError as error:
        raise InvalidInputError(f"{where}.asked_at: {error}") from None
    before = [e for e in events if e.timestamp <= cut]
    return before[-1].id if before else events[0].id


def load_paths(paths: Sequence[Path]) -> list[Instance]:
    """Instances from files (`*.json`, or a MEMTRACK `config_<id>.yaml`), folders of
    instance files, and MEMTRACK archive folders; instance ids must be unique.

    Raises:
        InvalidInputError: a path holds nothing usable, a file is invalid, or two
            instances share an id.
    """
    from memos.eval.memtrack.format import load_instance

    found: list[Instance] = []
    for path in paths:
        if is_archive(path):
            found += load_archive(path)
        elif path.is_dir():
            files = sorted(path.glob("*.json"))
            if not files:
                raise InvalidInputError(
                    f"{path}: no *.json instances and no MEMTRACK archive ({CONFIGS}/) here"
                )
            found += [load_instance(f) for f in files]
        elif path.suffix in (".yaml", ".yml"):
            found.append(convert_config(path))
        else:
            found.append(load_instance(path))
    seen: dict[str, str] = {}
    for instance in found:
        if instance.id in seen:
            raise InvalidInputError(
                f"{instance.source}: instance id {instance.id!r} is also used by "
                f"{seen[instance.id]}; instance ids must be unique in one run"
            )
        seen[instance.id] = instance.source
    if not found:
        raise InvalidInputError("no instances given; pass instance files or folders")
    return found
