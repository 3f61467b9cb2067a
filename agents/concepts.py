"""Concept memory (ArcMemo): reusable abstractions distilled from solution traces.

A concept is a plaintext item of type `concept`. Its attributes hold the structure
(`name`, `kind`: routine | heuristic | pattern | pitfall, `description`, `parameters`,
`cues`: when it applies, `notes`: implementation notes, `used_in`: traces it came from
or was applied in, and `uses` / `successes` / `failures`); its text renders all of it with
the cues first, so the vector and BM25 indexes find a concept by the situations it fits.
`used-in` links join a concept to the `trace` items it was distilled from or applied in.

Abstraction (`abstract`):
- with an LLM: the model sees the trace and the existing concepts closest to it (found
  through the index, never the whole memory) and answers concepts that reuse or refine
  those by id, or new ones;
- offline, a documented heuristic: every trace line marked `Routine:`, `Heuristic:`,
  `Pattern:` or `Pitfall:` (`Lesson:`, `Tip:` and `Rule:` count as heuristics,
  `Concept:` as a pattern) becomes a concept named by the text before the first ' - ',
  ' — ' or ': ' separator; a trace without marks yields one concept named by its best
  keyphrase, a routine when the outcome succeeded and a pitfall when it failed, with the
  steps as notes. Cues are the keyphrases of the task (else of the first step).
Concepts with the same name (case, spacing and punctuation ignored) merge into one item:
lists are unioned, a refined description replaces the old one, and the old state stays in
history. Usefulness is tracked per use (`record_use`) and feeds the item's importance
(Laplace-smoothed success rate), which the retrieval prior weighs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from memos import validation
from memos.agents import keyphrases
from memos.agents.structured import Attempt, ask
from memos.errors import InvalidInputError
from memos.models import MemoryItem, Record, Status
from memos.protocols import ChatMessage, LLMClient

if TYPE_CHECKING:
    from memos.protocols import Memory

CONCEPT_TYPE = "concept"
TRACE_TYPE = "trace"
KINDS = ("routine", "heuristic", "pattern", "pitfall")
USED_IN = "used-in"
MAX_LIST = 12
MAX_USED_IN = 20
_LIVE = (Status.GENERATED, Status.ACTIVATED, Status.FROZEN)
_MARK = re.compile(
    r"^\s*(?:[-*•]|\d+[.)])?\s*(routine|heuristic|pattern|pitfall|lesson|tip|rule|concept)"
    r"\s*[:\-—]\s*(.+)$",
    re.IGNORECASE,
)
_MARK_KIND = {"lesson": "heuristic", "tip": "heuristic", "rule": "heuristic", "concept": "pattern"}
_SEPARATORS = (" — ", " - ", ": ")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)]|step\s+\d+[.:)]?)\s*", re.IGNORECASE)
_RESULT = re.compile(r"^\s*(?:result|answer|output|outcome)\s*[:\-]\s*", re.IGNORECASE)
_PARAMETER = re.compile(r"<([A-Za-z_][\w ]{0,30})>|\{([A-Za-z_]\w{0,30})\}|\b([a-z_]\w{0,30})=\S")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


def name_key(name: str) -> str:
    """Names that differ only in case, spacing or punctuation are the same concept."""
    return " ".join(re.findall(r"\w+", name.lower()))


class ConceptSpec(BaseModel):
    """A concept as an LLM or a caller describes it."""

    model_config = ConfigDict(extra="ignore")
    name: Name
    kind: Literal["routine", "heuristic", "pattern", "pitfall"]
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)
    ]
    parameters: list[Text] = Field(default_factory=list, max_length=MAX_LIST)
    cues: list[Text] = Field(default_factory=list, max_length=MAX_LIST)
    notes: list[Text] = Field(default_factory=list, max_length=MAX_LIST)
    reuses: int | None = None

    @field_validator("kind", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class ConceptAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    concepts: list[ConceptSpec] = Field(max_length=5)


@dataclass(frozen=True, slots=True)
class Concept(Record):
    """A stored concept, read from its item (with a search score when retrieved)."""

    id: int
    version: int
    name: str
    kind: str
    description: str
    parameters: tuple[str, ...] = ()
    cues: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    used_in: tuple[dict[str, Any], ...] = ()
    uses: int = 0
    successes: int = 0
    failures: int = 0
    score: float | None = None

    @classmethod
    def from_item(cls, item: MemoryItem, score: float | None = None) -> Concept:
        data = item.attributes
        return cls(
            id=item.id,
            version=item.version,
            name=str(data.get("name", "")),
            kind=str(data.get("kind", "")),
            description=str(data.get("description", "")),
            parameters=tuple(data.get("parameters", ())),
            cues=tuple(data.get("cues", ())),
            notes=tuple(data.get("notes", ())),
            used_in=tuple(data.get("used_in", ())),
            uses=int(data.get("uses", 0)),
            successes=int(data.get("successes", 0)),
            failures=int(data.get("failures", 0)),
            score=score,
        )

    def render(self) -> str:
        """The concept as prompt text (the same text its item stores)."""
        return render(self.name, self.kind, self.description, self.cues, self.parameters,
                      self.notes)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ConceptChange(Record):
    """What abstraction did to one concept: created, merged (same name) or refined (the
    LLM chose to revise an existing one)."""

    concept: Concept
    action: str


@dataclass(frozen=True, slots=True)
class Abstraction(Record):
    """The result of `abstract`: the stored trace and the concepts it produced."""

    trace: MemoryItem
    changes: tuple[ConceptChange, ...]
    method: str
    ignored: tuple[str, ...] = field(default=())


def render(
    name: str,
    kind: str,
    description: str,
    cues: Sequence[str],
    parameters: Sequence[str],
    notes: Sequence[str],
) -> str:
    lines = [f"{name} ({kind}): {description}"]
    if cues:
        lines.append(f"Use when: {'; '.join(cues)}")
    if parameters:
        lines.append(f"Parameters: {'; '.join(parameters)}")
    if notes:
        lines.append(f"Notes: {'; '.join(notes)}")
    return "\n".join(lines)


def spec_of(name: object, *, kind: object, description: object, **lists: object) -> ConceptSpec:
    """A validated concept spec from plain values; `lists` are `cues`, `parameters` and
    `notes` (lists of text).

    Raises:
        InvalidInputError: a field does not fit (the message names it).
    """
    unknown = set(lists) - {"cues", "parameters", "notes"}
    if unknown:
        raise InvalidInputError(
            f"unknown concept field(s) {', '.join(sorted(unknown))}; lists are cues, "
            "parameters and notes"
        )
    checked: dict[str, list[Any]] = {}
    for field_name, given in lists.items():
        if isinstance(given, str | bytes) or not isinstance(given, list | tuple):
            raise InvalidInputError(f"{field_name} must be a list of text, got {given!r:.60}")
        checked[field_name] = list(given)
    try:
        # Strict: a number is not a name, nor a list of one text a description.
        return ConceptSpec.model_validate(
            {"name": name, "kind": kind, "description": description, **checked}, strict=True
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:3]
        )
        raise InvalidInputError(
            f"invalid concept ({problems}); kind is one of {', '.join(KINDS)}"
        ) from None


def _refs(given: object, field: str) -> list[int | str]:
    """Concept ids or uids, each once, checked before any is used."""
    listed = [given] if isinstance(given, int | str) else validation.listed(given, field=field)
    return list(dict.fromkeys(validation.item_ref(ref, field=field) for ref in listed))


def _union(old: Iterable[str], new: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in [*old, *new]:
        seen.setdefault(value.strip().lower(), value.strip())
    return [v for v in seen.values() if v][:MAX_LIST]


def _outcome(value: str | bool) -> str:
    if isinstance(value, bool):
        return "success" if value else "failure"
    lowered = str(value).strip().lower()
    if lowered in ("success", "succeeded", "solved", "pass", "passed", "ok"):
        return "success"
    if lowered in ("failure", "failed", "fail", "unsolved", "error"):
        return "failure"
    raise InvalidInputError(f"outcome {value!r} is not 'success' or 'failure'")


class ConceptMemory:
    """Concept operations on one cube (see the module docstring)."""

    def __init__(self, cube: Memory, *, llm: LLMClient | None = None) -> None:
        self.cube = cube
        self.llm = llm
        self.attempts: list[Attempt] = []

    # -- reading ------------------------------------------------------------------------

    def retrieve(self, problem: str, *, k: int = 5) -> list[Concept]:
        """The k concepts whose cues and text best fit `problem`, through the index."""
        hits = self.cube.search(problem, k=k, types=[CONCEPT_TYPE])
        return [Concept.from_item(h.item, h.score) for h in hits]

    def all(self, *, kind: str | None = None, limit: int = 1000) -> list[Concept]:
        """Live concepts, newest first.

        Raises:
            InvalidInputError: an unknown kind.
        """
        if kind is not None and kind not in KINDS:
            raise InvalidInputError(f"unknown concept kind {kind!r}; use one of {', '.join(KINDS)}")
        items = self.cube.items(type=[CONCEPT_TYPE], status=_LIVE, limit=limit)
        found = [Concept.from_item(i) for i in items]
        return [c for c in found if kind is None or c.kind == kind]

    def _by_name(self) -> dict[str, MemoryItem]:
        # Concept sets stay small (hundreds), so an exact scan is cheap and never misses.
        found: dict[str, MemoryItem] = {}
        offset = 0
        while True:
            page = self.cube.items(
                type=[CONCEPT_TYPE],
                status=_LIVE,
                limit=500,
                offset=offset,
            )
            for item in page:
                found.setdefault(name_key(str(item.attributes.get("name", ""))), item)
            if len(page) < 500:
                return found
            offset += 500

    # -- writing ------------------------------------------------------------------------

    def add(
        self,
        spec: ConceptSpec,
        *,
        created_by: str = "concepts:add",
        trace: MemoryItem | None = None,
        outcome: str | None = None,
        refine: bool = False,
        into: MemoryItem | None = None,
        copied: Iterable[int] = (),
    ) -> ConceptChange:
        """Store a concept, merging into the one with the same name (or `into`). Its text
        copies the trace's (and the `copied` items'): the ids are recorded as provenance,
        so a hard forget of any of them takes the concept back to a version without it."""
        existing = into or self._by_name().get(name_key(spec.name))
        used = [{"trace": trace.id, "outcome": outcome}] if trace is not None else []
        sources = {*copied, *([trace.id] if trace is not None else [])}
        if existing is None:
            attributes = validation.with_copied_from(
                {"name": spec.name, "kind": spec.kind, "description": spec.description,
                 "parameters": spec.parameters, "cues": spec.cues, "notes": spec.notes,
                 "used_in": used, "uses": 0, "successes": 0, "failures": 0},
                {"content": sources},
            )  # fmt: skip
            item = self.cube.add(
                render(spec.name, spec.kind, spec.description, spec.cues, spec.parameters,
                       spec.notes),
                type=CONCEPT_TYPE, tags=[spec.kind], keywords=self._keywords(spec),
                attributes=attributes, created_by=created_by,
            )  # fmt: skip
            action = "created"
        else:
            item = self._merge(existing, spec, used, sources, created_by=created_by, refine=refine)
            action = "refined" if refine else "merged"
        if trace is not None:
            reason = f"abstracted from this {outcome or ''} trace".replace("  ", " ")
            self.cube.link_many(
                [{"src": item.id, "dst": trace.id, "kind": USED_IN, "reason": reason,
                  "created_by": created_by}]
            )  # fmt: skip
        return ConceptChange(Concept.from_item(item), action)

    @staticmethod
    def _keywords(spec: ConceptSpec) -> list[str]:
        found = [spec.name[:64]]
        for cue in spec.cues:
            found += keyphrases.keyphrases(cue, limit=2)
        return list(dict.fromkeys(k[:64] for k in found))[:20]

    def _merge(
        self,
        existing: MemoryItem,
        spec: ConceptSpec,
        used: list[dict[str, Any]],
        sources: set[int],
        *,
        created_by: str,
        refine: bool,
    ) -> MemoryItem:
        old = Concept.from_item(existing)
        # The existing name and kind stay: a merge must not rename what others retrieve.
        description = spec.description if refine or not old.description else old.description
        merged = ConceptSpec(
            name=old.name or spec.name,
            kind=old.kind if old.kind in KINDS else spec.kind,  # type: ignore[arg-type]
            description=description,
            parameters=_union(old.parameters, spec.parameters),
            cues=_union(old.cues, spec.cues),
            notes=_union(old.notes, spec.notes),
        )
        attributes = {
            **existing.attributes,
            "description": merged.description, "parameters": merged.parameters,
            "cues": merged.cues, "notes": merged.notes,
            "used_in": [*old.used_in, *used][-MAX_USED_IN:],
        }  # fmt: skip
        earlier = validation.copied_from(existing.attributes)
        attributes = validation.with_copied_from(
            attributes,
            {**{n: set(i) for n, i in earlier.items()},
             "content": set(earlier.get("content", ())) | sources},
        )  # fmt: skip
        return self.cube.revise(
            existing.id,
            render(merged.name, merged.kind, merged.description, merged.cues,
                   merged.parameters, merged.notes),
            created_by=created_by, operation="refine" if refine else "merge",
            attributes=attributes, keywords=self._keywords(merged),
        )  # fmt: skip

    def _concept(self, ref: int | str) -> MemoryItem:
        item = self.cube.get(ref)
        if item.type != CONCEPT_TYPE:
            raise InvalidInputError(f"item #{item.id} is a {item.type}, not a concept")
        return item

    def record_use(
        self, concepts: Iterable[int | str], *, success: bool, trace: MemoryItem | None = None
    ) -> list[Concept]:
        """Count a use of each concept and its outcome; importance becomes the smoothed
        success rate, so concepts that keep failing sink in retrieval."""
        if not isinstance(success, bool):
            raise InvalidInputError(f"success must be True or False, got {success!r:.40}")
        updated: list[Concept] = []
        for ref in _refs(concepts, "concepts"):
            item = self._concept(ref)
            old = Concept.from_item(item)
            uses, wins = old.uses + 1, old.successes + int(success)
            outcome = "success" if success else "failure"
            used = list(old.used_in)
            if trace is not None:
                used = [*used, {"trace": trace.id, "outcome": outcome, "applied": True}]
            attributes = {
                **item.attributes, "uses": uses, "successes": wins,
                "failures": old.failures + int(not success), "used_in": used[-MAX_USED_IN:],
            }  # fmt: skip
            new = self.cube.revise(
                item.id, created_by="concepts:use", operation="use", attributes=attributes,
                importance=round((wins + 1) / (uses + 2), 4),
            )  # fmt: skip
            if trace is not None:
                self.cube.link_many(
                    [{"src": item.id, "dst": trace.id, "kind": USED_IN,
                      "reason": f"applied; outcome {outcome}", "created_by": "concepts:use"}]
                )  # fmt: skip
            updated.append(Concept.from_item(new))
        return updated

    def abstract(
        self,
        trace: str | Sequence[str],
        *,
        outcome: str | bool = "success",
        task: str | None = None,
        used: Iterable[int | str] = (),
    ) -> Abstraction:
        """Store a solution trace and distil concepts from it (module docstring)."""
        result = _outcome(outcome)
        steps = [trace] if isinstance(trace, str) else validation.listed(trace, field="trace")
        if not all(isinstance(step, str) for step in steps):
            raise InvalidInputError("a trace is text, or a list of steps as text")
        task = validation.optional_text(task, field="task", max_chars=2000)
        lines = [line.strip() for step in steps for line in step.splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise InvalidInputError("the trace is empty; pass the agent's steps and result")
        applied = [self._concept(ref).id for ref in _refs(used, "used")]  # check first
        text = "\n".join([*([f"Task: {task}"] if task else []), *lines, f"Outcome: {result}"])
        stored = self.cube.add(
            text, type=TRACE_TYPE, attributes={"outcome": result, "task": task},
            created_by="concepts:trace",
        )  # fmt: skip
        if applied:
            self.record_use(applied, success=result == "success", trace=stored)
        origin = f"concepts:abstract:trace#{stored.id}"
        ignored: list[str] = []
        if self.llm is not None:
            changes = self._abstract_llm(stored, lines, task, result, applied, origin, ignored)
            if changes is not None:
                method = f"llm:{self.llm.model}"[:100]
                return Abstraction(stored, tuple(changes), method, tuple(ignored))
        specs = offline_concepts(lines, task=task, outcome=result)
        changes = [self.add(s, created_by=origin, trace=stored, outcome=result) for s in specs]
        return Abstraction(stored, tuple(changes), "offline", tuple(ignored))

    def _abstract_llm(
        self,
        trace: MemoryItem,
        lines: Sequence[str],
        task: str | None,
        outcome: str,
        applied: Sequence[int | str],
        origin: str,
        ignored: list[str],
    ) -> list[ConceptChange] | None:
        assert self.llm is not None
        shown = {c.id: c for c in self.retrieve(trace.content or "", k=8)}
        for ref in applied:
            concept = Concept.from_item(self.cube.get(ref))
            shown.setdefault(concept.id, concept)
        existing = [
            f"[id {c.id}] {c.name} ({c.kind}): {c.description} | cues: {'; '.join(c.cues)}"
            for c in shown.values()
        ]
        prompt = "\n".join(
            [
                "TASK: abstract reusable concepts from a solution trace.",
                f"PROBLEM: {task or '(not given)'}",
                "TRACE:",
                *lines,
                f"OUTCOME: {outcome}",
                "EXISTING CONCEPTS (reuse or refine these by id instead of duplicating):",
                *(existing or ["(none)"]),
                "Give at most 3 concepts that would help on other problems: abstract away "
                "this problem's specific values. kind is routine, heuristic, pattern or "
                "pitfall; cues say when the concept applies; set reuses to an existing "
                "concept's id when you refine it.",
                'Return JSON: {"concepts": [{"name": "...", "kind": "...", "description": '
                '"...", "parameters": [], "cues": [], "notes": [], "reuses": null}]}',
            ]
        )
        messages: list[ChatMessage] = [
            {"role": "system", "content": "You distil reusable problem-solving concepts. "
             "Answer with one JSON object and nothing else."},
            {"role": "user", "content": prompt},
        ]  # fmt: skip
        answer = ask(self.llm, messages, ConceptAnswer, max_tokens=1024, attempts=self.attempts)
        if answer is None:
            return None
        # The LLM saw the concepts shown: what it writes may copy them and their sources.
        lent = set(shown)
        for concept_id in shown:
            lent |= validation.copied_from(self.cube.get(concept_id).attributes).get(
                "content", frozenset()
            )
        changes: list[ConceptChange] = []
        for spec in answer.concepts:
            into = None
            if spec.reuses is not None:
                if spec.reuses in shown:
                    into = self.cube.get(spec.reuses)
                else:
                    ignored.append(f"reuses #{spec.reuses}: not an existing concept shown")
            changes.append(
                self.add(spec, created_by=origin, trace=trace, outcome=outcome,
                         refine=into is not None, into=into, copied=lent)
            )  # fmt: skip
        return changes


def offline_concepts(lines: Sequence[str], *, task: str | None, outcome: str) -> list[ConceptSpec]:
    """The offline abstraction heuristic (module docstring), as specs."""
    first = _BULLET.sub("", lines[0])
    cues = keyphrases.keyphrases(task or first, limit=4)
    specs: list[ConceptSpec] = []
    for line in lines:
        match = _MARK.match(line)
        if match is None:
            continue
        kind = _MARK_KIND.get(match.group(1).lower(), match.group(1).lower())
        body = match.group(2).strip()
        name, description = body, body
        for separator in _SEPARATORS:
            head, found, tail = body.partition(separator)
            if found and head.strip() and tail.strip():
                name, description = head.strip(), tail.strip()
                break
        specs.append(
            ConceptSpec(name=name[:80], kind=kind, description=description[:600],  # type: ignore[arg-type]
                        parameters=_parameters(body), cues=cues)
        )  # fmt: skip
    if specs:
        return specs
    steps = [_RESULT.sub("", _BULLET.sub("", line))[:300] for line in lines]
    steps = [s for s in steps if s]
    named = keyphrases.keyphrases("\n".join(steps), limit=1)
    if not named:
        return []
    joined = " → ".join(s[:80] for s in steps[:4])
    success = outcome == "success"
    return [
        ConceptSpec(
            name=named[0],
            kind="routine" if success else "pitfall",
            description=(joined if success else f"did not work: {joined}")[:600],
            parameters=_parameters("\n".join(steps)),
            cues=cues,
            notes=steps[:5],
        )
    ]


def _parameters(text: str) -> list[str]:
    found = [next(g for g in m.groups() if g) for m in _PARAMETER.finditer(text)]
    return list(dict.fromkeys(found))[:MAX_LIST]
