"""The offline answerer: picks the answer span out of recalled items, with no LLM.

A question is read for its *subject* (a ticket such as ENG-142, a pull request, a
release such as v2.4, a project) and its *slot* (status, assignee, date, title or name,
the ticket a pull request fixed, who merged / reverted / opened something), and whether
it asks for the value *before* the current one. Every sentence of every recalled item
that is about the subject is read for values of that slot; sentences that are questions,
hedges ("might", "could", "I think") or negations are skipped, as they state nothing.

The answer is the value from the most authoritative sentence: one from an item its
backend holds to be current beats one from a superseded item; then the latest in time;
then the best ranked. For "before" questions it is the value the latest change replaced
(an explicit `A -> B` or `from A to B`, else the latest different value before it).

Before any of that, a choice question ("on site or remote?") is answered with the option
the latest statement names (`memos.eval.memtrack.choices`), a yes/no question with yes or
no (`memos.eval.memtrack.polar`); questions about acts ("Who
approved X?") and about states go to `memos.eval.memtrack.states`, then "which" and code
questions ("Which ticket tracks X?", "What is the PO number?") to
`memos.eval.memtrack.which`, and typed values (amounts, dates, durations, places, who holds
a role) to `memos.eval.memtrack.spans`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from memos.agents.dates import MONTHS
from memos.agents.tables import unfold_tables
from memos.eval.memtrack.answerers import UNKNOWN, Answer
from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.choices import chosen_option
from memos.eval.memtrack.codes import (
    PHONE,
    asks_for_code,
    asks_for_phone,
    code_prefix,
    is_code,
    labelled_as_asked,
    number_beside,
    whose_number,
    written_with,
)
from memos.eval.memtrack.polar import is_polar, polar_answer
from memos.eval.memtrack.replaced import replaced_value
from memos.eval.memtrack.roles import role_holder, thing_holder
from memos.eval.memtrack.spans import asks_per_unit, newer_span, typed_span
from memos.eval.memtrack.states import (
    answer_from_states,
    asks_who_did,
    content_stems,
    recalled_text,
    who_did,
)
from memos.eval.memtrack.which import asks_for_a_name, which_answer

_TICKET = re.compile(r"\b[A-Z][A-Z0-9]{1,9}-\d{1,6}\b")
_PR = re.compile(r"(?i)(?:\bPR|\bpull request|\bMR|\bmerge request)?\s*#(\d+)\b")
_PR_NAMED = re.compile(r"(?i)\b(?:PR|pull request|MR|merge request)\s*#?(\d+)\b")
_VERSION = re.compile(r"\bv\d+(?:\.\d+)+\b")
_PROJECT = re.compile(r"(?i)\bproject\s+([A-Z][\w-]*)")
_STATUS = (
    r"(?:to do|todo|backlog|in progress|in review|ready for review|in qa|blocked|done|"
    r"closed|reopened|merged|reverted|cancell?ed|shipped|released|on hold|triage|open)"
)
_STATUS_AFTER = re.compile(
    rf"(?i)(?:->|→|=>|\bstatus\s*:|\bstate\s*:|\bstatus of .{{1,40}}? is|\bto|\binto|\bis now|"
    rf"\bis|\bare|\bwas|\bnow|\bas)\s+(?P<v>{_STATUS})\b|\((?P<p>{_STATUS})\)"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    rf"(?i)\b(?:(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})|(?P<m1>{_MONTH})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?"
    rf"|(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTH}))\b"
)
_MENTION = re.compile(r"@([A-Za-z][\w.-]*)")
_NAME = r"@?([A-Za-z][\w-]*(?:\.[\w-]+)*)"  # a trailing full stop ends the sentence
_HEDGE = re.compile(
    r"(?i)\b(?:might|may(?!\s+\d)|maybe|could|would|should|perhaps|probably|possibly|"
    r"think\w*|guess\w*|hope\w*|plan to|planning|going to|if|unless|whether|rumou?rs?)\b"
)
_NEGATION = re.compile(r"(?i)\bnot\b|n't\b|\bnever\b|\bno longer\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z@#\"'])|\n+")
_BEFORE = re.compile(
    r"(?i)\b(?:before|previous(?:ly)?|used to|originally|initially|original|initial|prior)\b"
)
_ACTIONS = {
    "merged": "merge",
    "merge": "merge",
    "reverted": "revert",
    "revert": "revert",
    "opened": "open",
    "open": "open",
    "created": "creat",
    "filed": "creat",
}


@dataclass(frozen=True, slots=True)
class Reading:
    """What a question asks: the slot, its subject (a regex), and the named value after
    'before ...' for history questions."""

    slot: str
    subject: re.Pattern[str] | None
    subject_kind: str | None
    before: bool
    named: str | None = None
    action: str | None = None


def _subject(question: str) -> tuple[re.Pattern[str] | None, str | None]:
    if found := _TICKET.search(question):
        return re.compile(rf"\b{re.escape(found.group(0))}\b", re.I), "ticket"
    if found := _PR_NAMED.search(question) or _PR.search(question):
        return re.compile(rf"(?:#|\b(?:PR|pull request|MR)\s*#?){found.group(1)}\b", re.I), "pr"
    if found := _VERSION.search(question):
        return re.compile(rf"(?<![\w.]){re.escape(found.group(0))}(?![\w]|\.\d)", re.I), "release"
    if found := _PROJECT.search(question):
        return re.compile(rf"\b{re.escape(found.group(1))}\b"), "project"
    return None, None


def read_question(question: str) -> Reading:
    """The slot and subject of a question (see the module doc)."""
    text = question.lower()
    subject, kind = _subject(question)
    before = bool(_BEFORE.search(question))
    named = None
    if before and (
        tail := re.search(
            r"(?i)\bbefore\b(?:\s+it)?(?:\s+\w+){0,2}?\s+(?:to|was)\s+(.+?)\??$", question
        )
    ):
        named = tail.group(1).strip()
    elif before and (tail := re.search(r"(?i)\bbefore\s+@?([\w.-]+)\??$", question)):
        named = tail.group(1)
    action = next(
        (stem for word, stem in _ACTIONS.items() if re.search(rf"\bwho\s+{word}\b", text)), None
    )
    if action:
        slot = "actor"
    elif re.search(r"\b(?:assigned|assignee|owns|owner|working on)\b", text):
        slot = "assignee"
    elif re.search(r"\b(?:status|state|column|stage)\b", text):
        slot = "status"
    elif re.search(r"\b(?:when|what date|which date|what day|which day|deadline)\b", text):
        slot = "date"
    elif re.search(r"\b(?:title|called|name|renamed)\b", text):
        slot = "name"
    elif re.search(r"\b(?:which|what) (?:ticket|issue)\b", text):
        slot = "ticket"
    elif re.search(r"\b(?:which|what) (?:pr|pull request|merge request)\b", text):
        slot = "pr"
    else:
        slot = "other"
    return Reading(slot, subject, kind, before, named, action)


@dataclass(frozen=True, slots=True)
class _Found:
    value: str
    previous: str | None
    item: Retrieved
    rank: int


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(unfold_tables(text)) if s.strip()]


def _states_nothing(sentence: str) -> bool:
    body = sentence.strip()
    return body.endswith("?") or bool(_HEDGE.search(body)) or bool(_NEGATION.search(body))


def _date_key(text: str) -> str:
    """A comparable form of a date (month-day), or the lowered text."""
    found = _DATE.search(text)
    if not found:
        return " ".join(text.lower().split())
    if found["iso"]:
        return found["iso"][5:]
    month = (found["m1"] or found["m2"]).lower().rstrip(".")[:3]
    day = int(found["d1"] or found["d2"])
    return f"{MONTHS[month]:02d}-{day:02d}"


def _same(slot: str, a: str, b: str) -> bool:
    if slot == "date":
        return _date_key(a) == _date_key(b)
    return " ".join(a.lower().lstrip("@").split()) == " ".join(b.lower().lstrip("@").split())


def _status(sentence: str) -> tuple[str, str | None] | None:
    values = [m["v"] or m["p"] for m in _STATUS_AFTER.finditer(sentence)]
    if not values:
        return None
    arrow = re.search(rf"(?i)({_STATUS})\s*(?:->|→|=>)\s*({_STATUS})\b", sentence)
    if arrow:
        return arrow.group(2), arrow.group(1)
    moved = re.search(rf"(?i)\bfrom\s+({_STATUS})\s+to\s+({_STATUS})\b", sentence)
    if moved:
        return moved.group(2), moved.group(1)
    return values[-1], None


def _assignee(sentence: str, actor: str | None) -> tuple[str, str | None] | None:
    arrow = re.search(rf"(?i)\bassignee\s*:\s*{_NAME}\s*(?:->|→|=>)\s*{_NAME}", sentence)
    if arrow:
        return arrow.group(2), arrow.group(1)
    source = re.search(r"(?i)\bfrom\s+@([\w.-]+)", sentence)
    previous = source.group(1) if source else None
    to = re.search(
        rf"(?i)\b(?:assigned|reassigned|handing|handed|hand|over|given|gave)\b[^.]*?\bto\s+{_NAME}",
        sentence,
    )
    if to:
        return to.group(1), previous or (actor if re.search(r"(?i)\bhand", sentence) else None)
    if actor and re.search(
        r"(?i)\b(?:I'll|I will|I'm|I am|I)\s+(?:take|taking|pick up|picking up|grab|own)\b",
        sentence,
    ):
        return actor, previous
    owner = re.search(rf"(?i)\b(?:owner\s*:|owned by|assignee\s*:)\s*{_NAME}", sentence)
    return (owner.group(1), None) if owner else None


def _date(sentence: str) -> tuple[str, str | None] | None:
    found = list(_DATE.finditer(sentence))
    if not found:
        return None
    after_to = [
        m
        for m in found
        if re.search(r"(?i)\b(?:to|until|till|for|on|:)\s*$", sentence[: m.start()])
    ]
    chosen = after_to[-1] if after_to else found[0]
    before = [m for m in found if m.start() < chosen.start()]
    return chosen.group(0), (before[-1].group(0) if before else None)


# Straight and typographic quotation marks (written as escapes: the glyphs look alike).
_OPEN_QUOTE = "'\"\u201c\u2018"
_CLOSE_QUOTE = "'\"\u201d\u2019"
_QUOTES = _OPEN_QUOTE + _CLOSE_QUOTE


def _name(sentence: str) -> tuple[str, str | None] | None:
    quoted = re.findall(rf"[{_OPEN_QUOTE}]([^{_CLOSE_QUOTE}]{{2,120}})[{_CLOSE_QUOTE}]", sentence)
    renamed = re.search(rf"(?i)\brenamed\b.*?\bto\s+(?![{_OPEN_QUOTE}])(.+?)\s*[.!]?$", sentence)
    called = re.search(r"(?i)\b(?:is now called|is now named|title\s*:)\s+(.+?)\s*[.!]?$", sentence)
    if re.search(r"(?i)\brenamed\b", sentence) and quoted:
        return quoted[-1], (quoted[-2] if len(quoted) > 1 else None)
    if renamed:
        return renamed.group(1).strip(_QUOTES + " "), None
    if called:
        return called.group(1).strip(_QUOTES + " "), None
    if quoted:
        return quoted[0], None
    return None


def _ticket(sentence: str, subject: re.Pattern[str] | None) -> tuple[str, str | None] | None:
    tickets = [t for t in _TICKET.findall(sentence) if not (subject and subject.fullmatch(t))]
    if not tickets:
        return None
    fixed = re.search(
        rf"(?i)\b(?:fix(?:es|ed)?|closes?|closed|resolves?|resolved)\s+({_TICKET.pattern})",
        sentence,
    )
    return (fixed.group(1) if fixed else tickets[-1]), None


def _pr(sentence: str, subject: re.Pattern[str] | None) -> tuple[str, str | None] | None:
    numbers = [
        m.group(1) for m in _PR.finditer(sentence) if not (subject and subject.search(m.group(0)))
    ]
    return (f"PR #{numbers[-1]}", None) if numbers else None


def _action(sentence: str, action: str, actor: str | None) -> tuple[str, str | None] | None:
    if not re.search(rf"(?i)\b{action}", sentence):
        return None
    if action == "merge" and re.search(r"(?i)\brevert", sentence):
        return None  # 'Revert "Merge PR #4"' is a revert, not a merge
    by = re.search(rf"(?i)\b{action}\w*\s+by\s+{_NAME}", sentence)
    if by:
        return by.group(1), None
    return (actor, None) if actor else None


class ExtractiveAnswerer:
    """The offline answerer (see the module doc)."""

    name = "extractive"

    def _read(
        self, reading: Reading, sentence: str, item: Retrieved
    ) -> tuple[str, str | None] | None:
        slot = reading.slot
        if slot == "status":
            return _status(sentence)
        if slot == "assignee":
            return _assignee(sentence, item.actor)
        if slot == "date":
            return _date(sentence)
        if slot == "name":
            return _name(sentence)
        if slot == "ticket":
            return _ticket(sentence, reading.subject)
        if slot == "pr":
            return _pr(sentence, reading.subject)
        if slot == "actor" and reading.action:
            return _action(sentence, reading.action, item.actor)
        return None

    def candidates(self, reading: Reading, items: Sequence[Retrieved]) -> list[_Found]:
        """Every value the items state for the question's slot and subject."""
        found: list[_Found] = []
        for rank, item in enumerate(items):
            # An act is its event's: "Merged PR #2231: Fix ... (MOB-881)" merged MOB-881's fix
            # though its state only says the PR is merged. A value is the state's own.
            text = recalled_text(item) if reading.slot == "actor" else item.text
            if reading.subject is not None and not reading.subject.search(text):
                continue
            for sentence in sentences(item.text):
                if _states_nothing(sentence) or self._other_subject(reading, sentence):
                    continue
                read = self._read(reading, sentence, item)
                if read is not None and read[0]:
                    found.append(_Found(read[0].strip(), read[1], item, rank))
        return found

    @staticmethod
    def _other_subject(reading: Reading, sentence: str) -> bool:
        """The sentence is about another ticket (and not ours): its values are not ours."""
        if reading.subject_kind != "ticket" or reading.subject is None:
            return False
        return bool(_TICKET.search(sentence)) and not reading.subject.search(sentence)

    def answer(
        self, question: str, items: Sequence[Retrieved], *, asked_at: datetime | None = None
    ) -> Answer:
        chosen = chosen_option(question, items, asked_at)
        if chosen is not None:
            return Answer(chosen)  # "on site or remote?": one of the options, never a span
        if is_polar(question):
            # "Is the launch still on March 20?": yes or no, never a span.
            polar = polar_answer(
                question, items, asked_at, lambda q: self.answer(q, items, asked_at=asked_at).text
            )
            return Answer(polar or UNKNOWN)
        holder = whose_number(question)
        if holder is not None:
            # "the phone number of the U10 Thunder head coach": whoever holds that role
            # now, then the number written beside their name.
            number = self._number_of(holder, question, items, asked_at)
            if number is not None:
                return Answer(number)
        if asks_for_phone(question) or asks_for_code(question):
            # "What is the Parks permit number?", "the cell of the scheduler": a value of
            # that shape or nothing, never a count, a date or a person.
            options = [
                answer_from_states(question, items, asked_at),
                which_answer(question, items, asked_at),
                typed_span(question, items, asked_at),
            ]
            # "Which PO number ...": one written with that prefix first ("PO-2027-0453",
            # not the purchase ticket "PUR-3317").
            prefix = code_prefix(question)
            coded = next(
                (a for a in options if a is not None and written_with(a, prefix)),
                next((a for a in options if a is not None), None),
            )
            if coded is not None and (asks_for_phone(question) or is_code(coded)):
                return Answer(coded)
        reading = read_question(question)
        if reading.slot != "actor":
            if asks_who_did(question):
                # "Who approved the discount?": the author of the act, not a role's holder.
                actor = who_did(question, items)
                if actor is not None:
                    return Answer(actor)
            # A price per unit is read beside its unit; a state keeps no unit.
            per_unit = asks_per_unit(question)
            from_state = None if per_unit else answer_from_states(question, items, asked_at)
            if from_state is not None:
                newer = newer_span(question, items, asked_at, from_state)
                return Answer(newer or from_state)
            replaced = replaced_value(question, items)
            if replaced is not None:
                return Answer(replaced)  # "before Belgradstraße 17": an address before it
            which = which_answer(question, items, asked_at)
            if which is not None:
                return Answer(which)  # "Which ticket tracks X?": a thing of the kind asked
            if asks_for_a_name(question) and not asks_who_did(question):
                named = who_did(question, items)
                return Answer(named or UNKNOWN)  # "Which firm ...?" is never "EUR 48,000"
            actor = who_did(question, items)
            if actor is not None:
                return Answer(actor)
        if reading.slot == "other" or (reading.slot != "actor" and reading.subject is None):
            holder = role_holder(question, items) or thing_holder(question, items)
            if holder is not None:
                return Answer(holder)  # "Who is the head coach?", "Who has X now?": named last
            typed = typed_span(question, items, asked_at)
            if typed is not None or reading.slot == "other":
                return Answer(typed or UNKNOWN)
        found = self.candidates(reading, items)
        if not found:
            return Answer(typed_span(question, items, asked_at) or UNKNOWN)
        if reading.before:
            return Answer(self._previous(reading, found) or UNKNOWN)
        return Answer(max(found, key=self._authority(reading)).value)

    def _number_of(
        self, holder: str, question: str, items: Sequence[Retrieved], asked_at: datetime | None
    ) -> str | None:
        person = self.answer(holder, items, asked_at=asked_at).text
        if person == UNKNOWN or PHONE.search(person):
            return None
        # Of the sentences giving them a number, one under the line asked for ("her direct
        # line is ..." for "the direct phone number"), then the one sharing most of the
        # question's words, then the latest.
        words = content_stems(question)
        best: tuple[tuple[bool, int, datetime], str] | None = None
        for item in items:
            when = item.timestamp or datetime.min.replace(tzinfo=UTC)
            for sentence in sentences(item.text):
                number = number_beside(person, sentence, question)
                if number is None:
                    continue
                labelled = labelled_as_asked(sentence, number, question)
                key = (labelled, len(words & content_stems(sentence)), when)
                if best is None or key > best[0]:
                    best = (key, number)
        return best[1] if best else None

    @staticmethod
    def _authority(reading: Reading) -> Callable[[_Found], tuple[bool, datetime, int]]:
        # Who did something never stops being true, so supersession does not matter there.
        def key(found: _Found) -> tuple[bool, datetime, int]:
            current = reading.slot == "actor" or found.item.current is not False
            when = found.item.timestamp or datetime.min.replace(tzinfo=UTC)
            return current, when, -found.rank

        return key

    def _previous(self, reading: Reading, found: Sequence[_Found]) -> str | None:
        ordered = sorted(found, key=self._authority(reading))  # least to most authoritative
        named = reading.named
        latest = next(
            (f for f in reversed(ordered) if named is None or _same(reading.slot, f.value, named)),
            None,
        )
        if latest is None:
            return None
        # The same change is often stated twice (a tracker's `A -> B` and a summary of
        # it): whichever statement of it names the value it replaced answers.
        named_previous = [
            f for f in found
            if f.previous and f.item.timestamp == latest.item.timestamp
            and _same(reading.slot, f.value, latest.value)
        ]  # fmt: skip
        if named_previous:
            return min(named_previous, key=lambda f: f.rank).previous
        when = latest.item.timestamp
        earlier = [
            f for f in found
            if not _same(reading.slot, f.value, latest.value)
            and (when is None or f.item.timestamp is None or f.item.timestamp <= when)
        ]  # fmt: skip
        if not earlier:
            return None
        return max(
            earlier, key=lambda f: (f.item.timestamp or datetime.min.replace(tzinfo=UTC), -f.rank)
        ).value
