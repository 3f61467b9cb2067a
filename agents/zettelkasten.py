"""Zettelkasten notes (A-MEM): every note is constructed, linked and may evolve its
neighbours.

1. Candidates: the note's text is searched (hybrid retrieval) before it is stored; the
   top `candidates` live plaintext items are its candidate neighbours, always handled by
   id. A wider pool of hits supplies the tag vocabulary (tags are in the lexical index,
   so items whose tags the note's words match surface there).
2. Construction (always): keywords, tags and a one-sentence context, from the LLM when
   one is given and answers validly, else offline (`memos.agents.keyphrases`).
3. Linking: the LLM picks candidates by id with a kind and reason; offline, a candidate
   is linked (`related`) when its cosine similarity reaches `min_similarity` and it
   shares at least `min_shared` keyword stems with the note. Links record `created_by`.
4. Evolution: neighbours may get a new context and tags. Each change is a new version
   whose `created_by` is `zettelkasten:evolve:note#<id>` (operation `evolve`), so
   `evolutions` lists them and `cube.revert` / `undo_evolution` take them back.

Text only flows to readers who could read it at its source: a candidate lends words to a
note only if everyone who may read the note may read the candidate (a private item only
to a private note of the same owner), and a note evolves only neighbours whose readers may
read the note. Every field that copies other items' text records their ids
(`attributes["copied_from"]`, see `memos.validation.copied_from`), so a hard forget of
one of them purges that field in every version of every item that carries it.

Deliberately unlike the public A-MEM code: candidates are referred to by id, never by
their position in a ranked list (there, a position indexed another list and the wrong
notes evolved); construction runs on every note; everything is stored in the cube (SQL);
and every evolution is written as a version.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from memos import validation
from memos.agents import keyphrases
from memos.agents.structured import Attempt, ask
from memos.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from memos.models import Hit, Kind, Link, MemoryItem, Record, Status, Visibility
from memos.protocols import ChatMessage, LLMClient

if TYPE_CHECKING:
    from memos.protocols import Memory

AGENT = "zettelkasten"
NOTE_TYPE = "note"
LINK_KINDS = ("related", "supports", "contradicts", "refines", "example-of")
EVOLVE_OPERATION = "evolve"
# note() fills these itself; the caller's `agent` becomes the author.
_RESERVED = frozenset({"type", "keywords", "context", "author", "created_by", "status"})
_EVOLVABLE = (Status.GENERATED, Status.ACTIVATED)
MAX_TAGS_AFTER_EVOLUTION = 8

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


def may_copy(source: MemoryItem, visibility: Visibility, owner: str) -> bool:
    """Whether text of `source` may go into an item of `visibility` owned by `owner`:
    only if everyone who may read that item may read `source` too."""
    if source.visibility is Visibility.PUBLIC:
        return True
    if source.visibility is Visibility.SHARED:
        return visibility is not Visibility.PUBLIC
    return visibility is Visibility.PRIVATE and source.owner == owner


def lineage(items: Iterable[MemoryItem]) -> set[int]:
    """The ids of `items` and of every item whose text they copied: the sources of text
    taken from them."""
    found: set[int] = set()
    for item in items:
        found.add(item.id)
        for ids in validation.copied_from(item.attributes).values():
            found |= ids
    return found


def evolution_tag(note_id: int) -> str:
    """The `created_by` of every version an evolution by this note writes."""
    return f"{AGENT}:evolve:note#{note_id}"


@dataclass(frozen=True, slots=True)
class NoteSettings:
    """How notes are linked. `min_similarity` is a cosine and depends on the embedder:
    0.3 suits MiniLM (unrelated sentences score about 0.1, paraphrases 0.7 and up)."""

    candidates: int = 5
    vocabulary_pool: int = 25
    min_similarity: float = 0.3
    min_shared: int = 1
    max_links: int = 3
    evolve: bool = True
    neighbour_types: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.candidates <= 50:
            raise InvalidInputError("candidates must be from 1 to 50")
        if self.vocabulary_pool < self.candidates:
            raise InvalidInputError("vocabulary_pool must be at least candidates")
        if not -1.0 <= self.min_similarity <= 1.0:
            raise InvalidInputError("min_similarity is a cosine, from -1 to 1")


@dataclass(frozen=True, slots=True)
class Evolution(Record):
    """One neighbour's change caused by a note: revert it with
    `cube.revert(item_id, from_version)`."""

    item_id: int
    from_version: int
    to_version: int
    fields: tuple[str, ...]
    created_by: str


@dataclass(frozen=True, slots=True)
class NoteResult(Record):
    """A stored note with what its construction decided and changed."""

    note: MemoryItem
    links: tuple[Link, ...]
    evolved: tuple[Evolution, ...]
    candidates: tuple[int, ...]
    construction: str
    linking: str
    ignored: tuple[str, ...] = field(default=())


class Construction(BaseModel):
    """The LLM's construction of a note."""

    model_config = ConfigDict(extra="ignore")
    keywords: list[Label] = Field(min_length=1, max_length=12)
    tags: list[Label] = Field(default_factory=list, max_length=8)
    context: Sentence


class LinkChoice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    kind: Literal["related", "supports", "contradicts", "refines", "example-of"]
    reason: Sentence

    @field_validator("kind", mode="before")
    @classmethod
    def _normalise_kind(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().lower().replace("_", "-").replace(" ", "-")
        return value


class EvolveChoice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int
    context: Sentence | None = None
    tags: list[Label] | None = Field(default=None, max_length=MAX_TAGS_AFTER_EVOLUTION)


class LinkPlan(BaseModel):
    """The LLM's link and evolution decisions, by candidate id."""

    model_config = ConfigDict(extra="ignore")
    links: list[LinkChoice]
    evolve: list[EvolveChoice] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Change:
    item: MemoryItem
    context: str | None
    tags: tuple[str, ...] | None
    # The items whose text the new context and tags may copy.
    sources: frozenset[int] = frozenset()


_SYSTEM = (
    "You organise an agent's long-term memory as a Zettelkasten: atomic notes with "
    "keywords, tags and a context sentence, linked to related notes. Answer with one JSON "
    "object and nothing else."
)


def _item_line(item: MemoryItem) -> str:
    parts = [f"[id {item.id}] {item.content or ''}"]
    if item.keywords:
        parts.append(f"keywords: {', '.join(item.keywords)}")
    if item.tags:
        parts.append(f"tags: {', '.join(item.tags)}")
    if item.context:
        parts.append(f"context: {item.context}")
    return " | ".join(parts)


class NoteTaker:
    """Adds notes to one cube: construction, linking and evolution (module docstring)."""

    def __init__(
        self,
        cube: Memory,
        *,
        llm: LLMClient | None = None,
        settings: NoteSettings | None = None,
    ) -> None:
        self.cube = cube
        self.llm = llm
        self.settings = validation.part(settings, NoteSettings, field="settings") or NoteSettings()
        self.attempts: list[Attempt] = []

    # -- the pipeline ---------------------------------------------------------------------

    def add(self, content: str, *, agent: str | None = None, **fields: Any) -> NoteResult:
        """Store `content` as a constructed, linked note (see the module docstring).

        Raises:
            InvalidInputError: empty or oversized text, or a field note() sets itself.
        """
        agent = validation.optional_text(agent, field="agent", max_chars=128)
        reserved = _RESERVED & set(fields)
        if reserved:
            raise InvalidInputError(
                f"note() sets {', '.join(sorted(reserved))} itself; pass agent= for the "
                "author, and tags= or attributes= to add your own"
            )
        audience = validation.visibility(fields.get("visibility", Visibility.SHARED))
        pool = self._pool(content, audience)
        candidates = pool[: self.settings.candidates]
        construction, built_by, sources = self._construct(content, agent, candidates, pool)
        own_tags = list(validation.labels(fields.pop("tags", None)))
        attributes = validation.attributes(fields.pop("attributes", None))
        attributes[AGENT] = {
            "construction": built_by,
            "candidates": [hit.item.id for hit in candidates],
        }
        attributes = validation.with_copied_from(attributes, sources)
        note = self.cube.add(
            content,
            type=NOTE_TYPE,
            author=agent,
            keywords=construction.keywords,
            tags=list(dict.fromkeys([*own_tags, *construction.tags])),
            context=construction.context,
            created_by=f"{AGENT}:note",
            attributes=attributes,
            **fields,
        )
        ignored: list[str] = []
        choices, changes, linked_by = self._decide(note, candidates, ignored)
        links = self.cube.link_many(
            {
                "src": note.id,
                "dst": choice.id,
                "kind": choice.kind,
                "reason": choice.reason,
                "created_by": f"{AGENT}:{linked_by}",
            }
            for choice in choices
        )
        evolved = self._evolve(note, changes, ignored) if self.settings.evolve else []
        return NoteResult(
            note=note,
            links=tuple(links),
            evolved=tuple(evolved),
            candidates=tuple(hit.item.id for hit in candidates),
            construction=built_by,
            linking=linked_by,
            ignored=tuple(ignored),
        )

    def _pool(self, content: str, audience: Visibility) -> list[Hit]:
        """Live plaintext items near the note whose text the note's readers may read."""
        hits = self.cube.search(
            content, k=self.settings.vocabulary_pool, types=self.settings.neighbour_types
        )
        return [
            h
            for h in hits
            if h.item.kind is Kind.PLAINTEXT
            and h.item.content
            and may_copy(h.item, audience, self.cube.user)
        ]

    def _llm_name(self) -> str:
        assert self.llm is not None
        return f"llm:{self.llm.model}"[:100]

    # -- construction ---------------------------------------------------------------------

    def _construct(
        self,
        content: str,
        agent: str | None,
        candidates: Sequence[Hit],
        pool: Sequence[Hit],
    ) -> tuple[Construction, str, dict[str, set[int]]]:
        """The note's keywords, tags and context, who built them, and the ids of the items
        whose text each field may copy."""
        vocabulary = Counter(tag for hit in pool for tag in hit.item.tags)
        if self.llm is not None:
            vocabulary_line = ", ".join(t for t, _ in Counter(vocabulary).most_common(30))
            prompt = "\n".join(
                [
                    "TASK: construct a note.",
                    f"NEW NOTE{f' (by {agent})' if agent else ''}: {content}",
                    "RELATED NOTES:",
                    *(_item_line(h.item) for h in candidates),
                    f"EXISTING TAGS: {vocabulary_line or '(none yet)'}",
                    'Return JSON: {"keywords": [3-7 salient terms of the new note, names '
                    'and nouns first], "tags": [1-4 broad labels, reusing existing tags '
                    'where they fit], "context": "one sentence: what the note is about '
                    'and why it matters"}',
                ]
            )
            answer = ask(self.llm, self._messages(prompt), Construction, attempts=self.attempts)
            shown = lineage(h.item for h in candidates)
            # The link plan's reasons are written by an LLM that sees the same candidates.
            sources = {"keywords": shown, "context": shown, "reason": shown,
                       "tags": shown | lineage(h.item for h in pool if h.item.tags)}  # fmt: skip
            if answer is not None:
                answer.tags = [t.lower() for t in answer.tags]
                return answer, self._llm_name(), sources
            sources = {"reason": shown}
        else:
            sources = {}
        # Offline, only neighbours close enough to link lend topics: a far one would
        # describe the note by what it is not about.
        close = [
            h for h in candidates if h.scores.get("vector", 0.0) >= self.settings.min_similarity
        ]
        construction, offline = self._construct_offline(content, agent, close, vocabulary)
        return construction, "offline", {**sources, **offline}

    @staticmethod
    def _construct_offline(
        content: str,
        agent: str | None,
        candidates: Sequence[Hit],
        vocabulary: Mapping[str, int],
    ) -> tuple[Construction, dict[str, set[int]]]:
        nearby = [h.item.content or "" for h in candidates]
        keywords = keyphrases.keyphrases(content, nearby=nearby)
        borrowed: set[int] = set()
        if len(keywords) < 2 and candidates:
            # A short remark ("Wow, great!") is about what was being discussed.
            keywords += [
                k
                for k in keyphrases.keyphrases(" ".join(nearby[:2]), limit=3)
                if k.lower() not in {w.lower() for w in keywords}
            ][: 2 - len(keywords)]
            borrowed = lineage(h.item for h in candidates[:2])
        # Tags are words of the text or of the keywords: they copy what the keywords do.
        tags = keyphrases.choose_tags(content, keywords, vocabulary)
        lenders = [h.item for h in candidates[:2] if h.item.keywords]
        topics = [k for item in lenders for k in item.keywords[:2]]
        context = keyphrases.describe(keywords, author=agent, nearby_topics=topics)
        sources = {"keywords": borrowed, "tags": borrowed, "context": borrowed | lineage(lenders)}
        # Built from validated pieces; an empty keyword list is allowed offline only.
        construction = Construction.model_construct(
            keywords=keywords, tags=tags, context=context[:400]
        )
        return construction, sources

    # -- linking and evolution decisions ----------------------------------------------------

    def _decide(
        self, note: MemoryItem, candidates: Sequence[Hit], ignored: list[str]
    ) -> tuple[list[LinkChoice], list[_Change], str]:
        if not candidates:
            return [], [], "offline"
        if self.llm is not None:
            plan = self._ask_plan(note, candidates)
            if plan is not None:
                choices, changes = self._accept(plan, note, candidates, ignored)
                return choices, changes, self._llm_name()
        choices, changes = self._decide_offline(note, candidates)
        return choices, changes, "offline"

    def _ask_plan(self, note: MemoryItem, candidates: Sequence[Hit]) -> LinkPlan | None:
        assert self.llm is not None
        prompt = "\n".join(
            [
                "TASK: link a new note to related notes and evolve them.",
                f"NEW NOTE: {_item_line(note)}",
                "CANDIDATES (refer to them only by their id):",
                *(_item_line(h.item) for h in candidates),
                "Decide which candidates the new note links to. kind is one of "
                f"{', '.join(LINK_KINDS)}, read as 'new note <kind> candidate'; give a "
                "short reason. You may also evolve candidates: a new context sentence "
                "and/or a new tag list, updated in light of the new note. Leave out "
                "candidates that are unrelated.",
                'Return JSON: {"links": [{"id": <candidate id>, "kind": "...", "reason": '
                '"..."}], "evolve": [{"id": <candidate id>, "context": "...", "tags": '
                '["..."]}]}',
            ]
        )
        return ask(self.llm, self._messages(prompt), LinkPlan, attempts=self.attempts)

    @staticmethod
    def _accept(
        plan: LinkPlan, note: MemoryItem, candidates: Sequence[Hit], ignored: list[str]
    ) -> tuple[list[LinkChoice], list[_Change]]:
        """Keep the decisions about real candidates, matched by id (never by position)."""
        by_id = {h.item.id: h.item for h in candidates}
        # The LLM saw the note and every candidate: an evolution may copy any of them.
        shown = frozenset(lineage([note, *by_id.values()]))
        choices: list[LinkChoice] = []
        for choice in plan.links:
            if choice.id not in by_id:
                ignored.append(f"link to #{choice.id}: not a candidate")
            elif any(c.id == choice.id and c.kind == choice.kind for c in choices):
                ignored.append(f"link to #{choice.id}: duplicate")
            else:
                choices.append(choice)
        changes: list[_Change] = []
        for wish in plan.evolve:
            target = by_id.get(wish.id)
            if target is None:
                ignored.append(f"evolve #{wish.id}: not a candidate")
                continue
            tags = None if wish.tags is None else tuple(dict.fromkeys(t.lower() for t in wish.tags))
            changes.append(_Change(target, wish.context, tags, shown))
        return choices, changes

    def _decide_offline(
        self, note: MemoryItem, candidates: Sequence[Hit]
    ) -> tuple[list[LinkChoice], list[_Change]]:
        choices: list[LinkChoice] = []
        changes: list[_Change] = []
        for hit in candidates:
            neighbour = hit.item
            similarity = hit.scores.get("vector", 0.0)
            theirs = [*neighbour.keywords, neighbour.content or ""]
            shared = keyphrases.shared_words([*note.keywords, *note.tags], theirs)
            if similarity < self.settings.min_similarity or len(shared) < self.settings.min_shared:
                continue
            # The reason quotes only words of both texts themselves, never words either
            # copied from a third item (which a forget of that item would have to chase).
            quoted = keyphrases.shared_words(
                keyphrases.shared_words(shared, [note.content or ""]), [neighbour.content or ""]
            )
            about = f"shares {', '.join(quoted[:4])}" if quoted else "related topics"
            reason = f"{about}; similarity {similarity:.2f}"
            choices.append(LinkChoice(id=neighbour.id, kind="related", reason=reason))
            change = self._offline_change(note, neighbour)
            if change is not None:
                changes.append(change)
            if len(choices) == self.settings.max_links:
                break
        return choices, changes

    @staticmethod
    def _offline_change(note: MemoryItem, neighbour: MemoryItem) -> _Change | None:
        """A linked neighbour gains the note's tags that fit its own text, and a context
        if it had none."""
        words = keyphrases.content_stems(" ".join([neighbour.content or "", *neighbour.keywords]))
        fitting = [
            tag
            for tag in note.tags
            if tag not in neighbour.tags
            and all(keyphrases.stem(w) in words for w in keyphrases.words(tag.replace("-", " ")))
        ]
        tags = (*neighbour.tags, *fitting)[:MAX_TAGS_AFTER_EVOLUTION] if fitting else None
        context = None
        if not neighbour.context:
            own = list(neighbour.keywords) or keyphrases.keyphrases(neighbour.content or "")
            context = keyphrases.describe(
                own, author=neighbour.author, nearby_topics=note.keywords[:2]
            )
        if tags is None and context is None:
            return None
        own_sources = validation.copied_from(neighbour.attributes).get("keywords", frozenset())
        return _Change(neighbour, context, tags, frozenset(lineage([note]) | own_sources))

    def _evolve(
        self, note: MemoryItem, changes: Sequence[_Change], ignored: list[str]
    ) -> list[Evolution]:
        done: list[Evolution] = []
        tag = evolution_tag(note.id)
        for change in changes:
            target = change.item
            updates: dict[str, Any] = {}
            if change.context is not None and change.context != target.context:
                updates["context"] = change.context
            if change.tags is not None and change.tags != target.tags:
                updates["tags"] = change.tags
            if not updates:
                continue
            if target.status not in _EVOLVABLE:
                ignored.append(f"evolve #{target.id}: it is {target.status.value}")
                continue
            if not may_copy(note, target.visibility, target.owner):
                ignored.append(f"evolve #{target.id}: its readers may not read this note")
                continue
            sources = {
                name: set(ids) for name, ids in validation.copied_from(target.attributes).items()
            }
            sources.update({name: set(change.sources) for name in updates})
            attributes = validation.with_copied_from(dict(target.attributes), sources)
            try:
                new = self.cube.revise(
                    target.id, created_by=tag, operation=EVOLVE_OPERATION,
                    attributes=attributes, **updates,
                )  # fmt: skip
            except (ConflictError, PermissionDeniedError) as error:
                # Frozen or archived since it was retrieved, or another user's item.
                ignored.append(f"evolve #{target.id}: {error}")
                continue
            done.append(Evolution(target.id, new.version - 1, new.version, tuple(updates), tag))
        return done

    @staticmethod
    def _messages(prompt: str) -> list[ChatMessage]:
        return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": prompt}]


# -- audit and undo ---------------------------------------------------------------------


def evolutions(cube: Memory, note: int | str) -> list[Evolution]:
    """Every change a note made to its neighbours, read from their version histories."""
    item = cube.get(note)
    tag = evolution_tag(item.id)
    state = item.attributes.get(AGENT, {})
    listed = state.get("candidates") if isinstance(state, dict) else None
    found: list[Evolution] = []
    for neighbour in listed if isinstance(listed, list) else []:
        if isinstance(neighbour, bool) or not isinstance(neighbour, int):
            continue  # attributes edited by hand
        try:
            history = cube.history(neighbour)
        except (NotFoundError, PermissionDeniedError, InvalidInputError):
            # Hidden from this user, or an id written by hand: no evolution to show.
            continue
        for before, after in itertools.pairwise(history):
            if after.operation == EVOLVE_OPERATION and after.item.created_by == tag:
                changed = tuple(
                    name
                    for name in ("context", "tags")
                    if getattr(before.item, name) != getattr(after.item, name)
                )
                found.append(Evolution(neighbour, before.version, after.version, changed, tag))
    return found


def undo_evolution(cube: Memory, note: int | str, *, force: bool = False) -> list[MemoryItem]:
    """Revert every neighbour a note evolved to its version before the evolution.

    Raises:
        ConflictError: a neighbour changed again since (pass force=True to revert anyway,
            which also takes back the later change).
    """
    changes = evolutions(cube, note)
    first: dict[int, Evolution] = {}
    last: dict[int, Evolution] = {}
    for change in changes:
        first.setdefault(change.item_id, change)
        last[change.item_id] = change
    if not force:
        for item_id, change in last.items():
            current = cube.get(item_id)
            if current.version != change.to_version:
                raise ConflictError(
                    f"item #{item_id} changed after the evolution (now v{current.version}, "
                    f"evolved to v{change.to_version}); revert it by hand with "
                    f"`memos history {item_id}`, or pass force"
                )
    return [cube.revert(item_id, change.from_version) for item_id, change in first.items()]
