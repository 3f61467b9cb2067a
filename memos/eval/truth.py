"""State truth files (`<family>/truth/<id>.truth.json`, format in bench/heldout/TRUTH.md)
and the scores they support: a memory reader's keyed states against what a careful human
reader wrote down.

* `load_truth(path)` reads and checks one file into a `Truth`.
* `Extraction` is one keyed state a reader stored (subject, attribute, value, the event it
  came from, when it held); `read_states(cube)` collects them from a cube through the SDK.
* `score(truth, extractions, when)` gives final-state accuracy, `as_of` accuracy on the
  probes and precision (supported / (supported + invented)), with the misses listed.

Matching is exact equality after the MEMTRACK `normalise` (TRUTH.md, "Matching"): a
reader's subject must name an entity or one of its aliases, its attribute the row's
attribute or one of its aliases, its value the row's value or one of its aliases. A
reader that stores several names for a state's subject (its entity's aliases) and
attribute (synonyms) is matched on each, most specific first (`score(aliases=True)`, the
default); `aliases=False` scores the subject and attribute alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memos.errors import InvalidInputError
from memos.eval.memtrack.metrics import normalise
from memos.timeutil import parse_time

if TYPE_CHECKING:
    from memos.protocols import Memory


@dataclass(frozen=True, slots=True)
class Row:
    """One state row: from `event` (at `valid_from`), `entity`'s `attribute` is `value`."""

    event: str
    entity: str
    attribute: str
    attribute_aliases: tuple[str, ...]
    value: str
    value_aliases: tuple[str, ...]
    valid_from: datetime
    corrects: str | None = None
    retracts: str | None = None

    def matches(self, value: str) -> bool:
        mine = normalise(value)
        return bool(mine) and any(mine == normalise(v) for v in (self.value, *self.value_aliases))


@dataclass(frozen=True, slots=True)
class Probe:
    entity: str
    attribute: str
    as_of: datetime
    value: str


@dataclass(frozen=True, slots=True)
class Truth:
    """One instance's state truth (see bench/heldout/TRUTH.md)."""

    instance: str
    entities: Mapping[str, tuple[str, ...]]
    rows: tuple[Row, ...]
    probes: tuple[Probe, ...]

    def entity_of(self, name: str) -> str | None:
        """The entity key a name refers to, or None."""
        mine = normalise(name)
        for key, aliases in self.entities.items():
            if mine and any(mine == normalise(n) for n in (key, *aliases)):
                return key
        return None

    def attribute_of(self, entity: str, name: str) -> str | None:
        """The canonical attribute of `entity` a name refers to, or None."""
        mine = normalise(name)
        for row in self.rows:
            if row.entity == entity and any(
                mine == normalise(n) for n in (row.attribute, *row.attribute_aliases)
            ):
                return row.attribute
        return None

    def pairs(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys((r.entity, r.attribute) for r in self.rows))

    def in_force(self, entity: str, attribute: str, moment: datetime) -> Row | None:
        """The row of (entity, attribute) in force at `moment` (the last one begun by then)."""
        found = None
        for row in self.rows:
            if (
                row.entity == entity
                and row.attribute == attribute
                and row.valid_from <= moment
                and (found is None or row.valid_from >= found.valid_from)
            ):
                found = row
        return found


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise InvalidInputError(f"{where}: expected a list of strings")
    return tuple(str(v) for v in value)


def _moment(text: str, where: str) -> datetime:
    moment = parse_time(text, field=where)
    if moment is None:
        raise InvalidInputError(f"{where}: expected an ISO 8601 time")
    return moment


def _text(record: Mapping[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{where}.{key}: expected non-empty text")
    return value


def truth_from_dict(document: Mapping[str, Any], where: str = "truth") -> Truth:
    """A truth document (already parsed) checked and read.

    Raises:
        InvalidInputError: a field is missing or malformed (named by its JSON path).
    """
    entities_raw = document.get("entities")
    if not isinstance(entities_raw, Mapping):
        raise InvalidInputError(f"{where}: $.entities must be an object")
    entities = {str(k): _strings(v, f"{where}: $.entities.{k}") for k, v in entities_raw.items()}
    rows: list[Row] = []
    for index, raw in enumerate(document.get("states") or []):
        at = f"{where}: $.states[{index}]"
        if not isinstance(raw, Mapping):
            raise InvalidInputError(f"{at}: expected an object")
        entity = _text(raw, "entity", at)
        if entity not in entities:
            raise InvalidInputError(f"{at}.entity: {entity!r} is not a key of $.entities")
        rows.append(
            Row(
                event=_text(raw, "event", at),
                entity=entity,
                attribute=_text(raw, "attribute", at),
                attribute_aliases=_strings(raw.get("attribute_aliases", []), at),
                value=_text(raw, "value", at),
                value_aliases=_strings(raw.get("value_aliases", []), at),
                valid_from=_moment(_text(raw, "valid_from", at), f"{at}.valid_from"),
                corrects=raw.get("corrects"),
                retracts=raw.get("retracts"),
            )
        )
    probes: list[Probe] = []
    for index, raw in enumerate(document.get("probes") or []):
        at = f"{where}: $.probes[{index}]"
        if not isinstance(raw, Mapping):
            raise InvalidInputError(f"{at}: expected an object")
        probes.append(
            Probe(
                entity=_text(raw, "entity", at),
                attribute=_text(raw, "attribute", at),
                as_of=_moment(_text(raw, "as_of", at), f"{at}.as_of"),
                value=_text(raw, "value", at),
            )
        )
    return Truth(_text(document, "instance", where), entities, tuple(rows), tuple(probes))


def load_truth(path: Path) -> Truth:
    """One truth file.

    Raises:
        InvalidInputError: not JSON, or not a truth document.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidInputError(f"{path}: cannot read a truth file ({error})") from None
    if not isinstance(document, Mapping):
        raise InvalidInputError(f"{path}: a truth file is a JSON object")
    return truth_from_dict(document, str(path))


@dataclass(frozen=True, slots=True)
class Extraction:
    """One keyed state a reader stored: from event `source_ref`, held over
    [`valid_from`, `valid_to`) (`valid_to` None: still current)."""

    subject: str
    attribute: str
    value: str
    source_ref: str | None
    valid_from: datetime
    valid_to: datetime | None = None
    ended: bool = False
    # The other names the reader stored for the subject and the attribute (its entity's
    # aliases, the attribute's synonyms), most specific first.
    names: tuple[str, ...] = ()
    attribute_names: tuple[str, ...] = ()

    def holds_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment and (self.valid_to is None or moment < self.valid_to)


def _texts(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if isinstance(v, str) and v)
    return ()


def read_states(cube: Memory, *, page: int = 500) -> list[Extraction]:
    """Every keyed state item of a cube, current and superseded, as `Extraction`s. A
    subject's names are all the names any of its items stored (an entity learns names
    as the conversation goes on)."""
    found: list[Extraction] = []
    names: dict[str, list[str]] = {}
    offset = 0
    while True:
        batch = cube.items(limit=page, offset=offset)
        for item in batch:
            attributes = item.attributes
            if "state_key" not in attributes:
                continue
            ended_by = item.valid_to
            if ended_by is None and item.superseded_by is not None:
                ended_by = item.valid_from  # superseded without an end time: never current
            subject = str(attributes.get("subject", ""))
            known = names.setdefault(subject, [])
            known += [n for n in _texts(attributes.get("names")) if n not in known]
            found.append(
                Extraction(
                    subject=subject,
                    attribute=str(attributes.get("attribute", "")),
                    value=str(attributes.get("value", "")),
                    source_ref=item.source_ref,
                    valid_from=item.valid_from,
                    valid_to=ended_by,
                    ended=bool(attributes.get("ended")),
                    attribute_names=_texts(attributes.get("attribute_names")),
                )
            )
        if len(batch) < page:
            break
        offset += page
    return [replace(e, names=tuple(names.get(e.subject, ()))) for e in found]


@dataclass
class Score:
    """Counts behind the three metrics, and what went wrong (for reading dev failures)."""

    final_right: int = 0
    final_total: int = 0
    as_of_right: int = 0
    as_of_total: int = 0
    supported: int = 0
    invented: int = 0
    unmatched: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.final_right += other.final_right
        self.final_total += other.final_total
        self.as_of_right += other.as_of_right
        self.as_of_total += other.as_of_total
        self.supported += other.supported
        self.invented += other.invented
        self.unmatched += other.unmatched
        self.misses += other.misses

    @property
    def final_accuracy(self) -> float | None:
        return self.final_right / self.final_total if self.final_total else None

    @property
    def as_of_accuracy(self) -> float | None:
        return self.as_of_right / self.as_of_total if self.as_of_total else None

    @property
    def precision(self) -> float | None:
        counted = self.supported + self.invented
        return self.supported / counted if counted else None


_END_OF_TIME = datetime.max.replace(tzinfo=UTC)


def _pair(truth: Truth, extraction: Extraction, aliases: bool = True) -> tuple[str, str] | None:
    """The truth pair an extraction names: by its subject and attribute, or (`aliases`)
    by any of the other names the reader stored for them, the most specific first."""
    subjects = [extraction.subject, *extraction.names] if aliases else [extraction.subject]
    attributes = [extraction.attribute]
    if aliases:
        attributes += list(extraction.attribute_names)
    for subject in subjects:
        entity = truth.entity_of(subject)
        if entity is None:
            continue
        for name in attributes:
            attribute = truth.attribute_of(entity, name)
            if attribute is not None:
                return entity, attribute
    return None


def _value_at(
    matched: Sequence[tuple[tuple[str, str], Extraction]], pair: tuple[str, str], moment: datetime
) -> str | None:
    held = [e for p, e in matched if p == pair and not e.ended and e.holds_at(moment)]
    latest = max(held, key=lambda e: e.valid_from, default=None)
    return None if latest is None else latest.value


def _current(
    matched: Sequence[tuple[tuple[str, str], Extraction]], pair: tuple[str, str]
) -> str | None:
    live = [e for p, e in matched if p == pair and e.valid_to is None]
    latest = max(live, key=lambda e: e.valid_from, default=None)
    return None if latest is None or latest.ended else latest.value


def score(
    truth: Truth,
    extractions: Iterable[Extraction],
    when: Mapping[str, datetime],
    *,
    aliases: bool = True,
) -> Score:
    """Final-state accuracy, probe accuracy and precision of one instance's extractions
    (`when`: each event id's timestamp, for the row in force at an extraction's event).
    With `aliases` (the default) an extraction names a truth pair by any name the reader
    stored for its subject or attribute; without, by its subject and attribute alone."""
    result = Score()
    matched: list[tuple[tuple[str, str], Extraction]] = []
    for extraction in extractions:
        pair = _pair(truth, extraction, aliases)
        if pair is None:
            result.unmatched += 1
            continue
        matched.append((pair, extraction))
        if extraction.ended:
            continue
        moment = when.get(extraction.source_ref or "", extraction.valid_from)
        row = truth.in_force(pair[0], pair[1], moment)
        if row is not None and row.matches(extraction.value):
            result.supported += 1
        else:
            result.invented += 1
            expected = row.value if row else "(no value yet)"
            result.misses.append(
                f"{truth.instance}: invented {pair[0]} / {pair[1]} = {extraction.value!r} "
                f"from {extraction.source_ref} (truth then: {expected!r})"
            )
    for entity, attribute in truth.pairs():
        last = truth.in_force(entity, attribute, _END_OF_TIME)
        value = _current(matched, (entity, attribute))
        result.final_total += 1
        if last is not None and value is not None and last.matches(value):
            result.final_right += 1
        else:
            wanted = last.value if last else None
            result.misses.append(
                f"{truth.instance}: final {entity} / {attribute}: got {value!r}, want {wanted!r}"
            )
    for probe in truth.probes:
        row = truth.in_force(probe.entity, probe.attribute, probe.as_of)
        value = _value_at(matched, (probe.entity, probe.attribute), probe.as_of)
        result.as_of_total += 1
        if row is not None and value is not None and row.matches(value):
            result.as_of_right += 1
        else:
            result.misses.append(
                f"{truth.instance}: as_of {probe.as_of:%Y-%m-%d %H:%M} {probe.entity} / "
                f"{probe.attribute}: got {value!r}, want {probe.value!r}"
            )
    return result
