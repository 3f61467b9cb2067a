"""Questions for a generated timeline, with answers read from the ground truth.

Questions are asked at four points (after about 30%, 55% and 80% of the events, and at
the end): two about current values at each, and one history or cross-reference question
(both at the end), preferring what changed since the last point and re-asking earlier
questions whose answer has changed since (sequential injection).

Categories:

* `state`: the current value of a ticket's status / assignee / title, a release's date or
  the project's name, when it has changed at most once;
* `conflict`: the same, when it has changed at least twice, so older, contradicting values
  are in the timeline;
* `history`: the value just before the current one;
* `cross-reference`: facts that join platforms: the ticket a merged pull request fixed,
  who merged or reverted it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from memos.eval.memtrack.format import Event, Question
from memos.eval.memtrack.world import World, day_forms

CHECKPOINTS = (0.3, 0.55, 0.8, 1.0)


@dataclass(frozen=True, slots=True)
class _Option:
    key: str  # what is asked about, e.g. "ENG-104/status" or "history:ENG-104/status"
    text: str
    answers: tuple[str, ...]
    evidence: tuple[str, ...]
    category: str
    changed_at: int  # position of the event that made the answer true


def _forms(key: str, value: str) -> tuple[str, ...]:
    if key.endswith("/date"):
        return tuple(day_forms(date.fromisoformat(value)))
    return (value,)


def _shown(key: str, value: str) -> str:
    return _forms(key, value)[0]


def _slot_options(rng: random.Random, world: World, point: int) -> list[_Option]:
    out: list[_Option] = []
    templates = {
        "status": ["What is the status of {s}?", "What state is {s} in right now?"],
        "assignee": ["Who is {s} assigned to?", "Who owns {s} now?"],
        "title": ["What is the current title of {s}?", "What is {s} called now?"],
        "date": ["When is the {s} release?", "What date is the {s} release scheduled for?"],
        "name": ["What is project {s} called now?"],
    }
    before = {
        "status": "What was the status of {s} just before it moved to {v}?",
        "assignee": "Who was {s} assigned to before {v}?",
        "date": "What date was the {s} release set for before it moved to {v}?",
    }
    for key in sorted(world.history):
        changes = world.at(key, point)
        subject, attribute = key.split("/")
        if not changes or (attribute == "title" and len(changes) < 2):
            continue  # a title never changed is asked by nobody
        if attribute == "name":
            subject = world.original_project
        current = changes[-1]
        out.append(
            _Option(
                key,
                rng.choice(templates[attribute]).format(s=subject),
                _forms(key, current.value),
                (current.event,),
                "conflict" if len(changes) >= 3 else "state",
                current.position,
            )
        )
        if len(changes) >= 2 and attribute in before:
            previous = changes[-2]
            out.append(
                _Option(
                    f"history:{key}",
                    before[attribute].format(s=subject, v=_shown(key, current.value)),
                    _forms(key, previous.value),
                    (previous.event, current.event),
                    "history",
                    current.position,
                )
            )
    return out


def _pr_options(world: World, position: dict[str, int], point: int) -> list[_Option]:
    out: list[_Option] = []
    for pr in world.prs.values():
        if pr.merge_event is None or position[pr.merge_event] > point:
            continue
        merged_at = position[pr.merge_event]
        out += [
            _Option(f"pr-ticket:{pr.number}", f"Which ticket did PR #{pr.number} fix?",
                    (pr.ticket,), (pr.merge_event,), "cross-reference", merged_at),
            _Option(f"pr-merger:{pr.number}", f"Who merged PR #{pr.number}?",
                    (pr.merged_by or "",), (pr.merge_event,), "cross-reference", merged_at),
        ]  # fmt: skip
        if pr.revert_event is not None and position[pr.revert_event] <= point:
            out.append(
                _Option(
                    f"pr-reverter:{pr.number}",
                    f"Who reverted PR #{pr.number}?",
                    (pr.reverted_by or "",),
                    (pr.revert_event,),
                    "cross-reference",
                    position[pr.revert_event],
                )
            )
    return out


def _group(option: _Option) -> str:
    return "slot" if option.category in ("state", "conflict") else option.category


def _pick(
    rng: random.Random,
    options: Sequence[_Option],
    asked: dict[str, tuple[str, ...]],
    since: int,
    plan: Sequence[str],
) -> list[_Option]:
    """One option per entry of `plan` (a group: slot, history, cross-reference; another
    group when that one has nothing left). Re-asking a current value whose answer has
    changed comes first, then what changed since the last point."""
    noise = {o.key: rng.random() for o in options}

    def priority(option: _Option) -> float:
        if option.key in asked:
            changed = asked[option.key] != option.answers and _group(option) == "slot"
            return 3.0 if changed else -1.0
        return (2.0 if option.changed_at > since else 1.0) + noise[option.key]

    ranked = sorted((o for o in options if priority(o) >= 0), key=lambda o: (-priority(o), o.key))
    chosen: list[_Option] = []
    for group in plan:
        left = [o for o in ranked if o not in chosen]
        pick = next((o for o in left if _group(o) == group), left[0] if left else None)
        if pick is not None:
            chosen.append(pick)
    return chosen


def ask_questions(rng: random.Random, world: World, events: Sequence[Event]) -> list[Question]:
    """Questions at each checkpoint (see the module doc), in the order they are asked."""
    position = {e.id: i for i, e in enumerate(events)}
    asked: dict[str, tuple[str, ...]] = {}
    out: list[Question] = []
    since = -1
    for number, fraction in enumerate(CHECKPOINTS):
        point = max(0, min(len(events), round(len(events) * fraction)) - 1)
        options = _slot_options(rng, world, point) + _pr_options(world, position, point)
        if fraction == CHECKPOINTS[-1]:
            plan = ["slot", "slot", "history", "cross-reference"]
        else:
            plan = ["slot", "slot", "history" if number % 2 else "cross-reference"]
        for option in _pick(rng, options, asked, since, plan):
            asked[option.key] = option.answers
            out.append(
                Question(
                    id=f"q{len(out) + 1}",
                    question=option.text,
                    answers=option.answers,
                    after=events[point].id,
                    evidence=option.evidence,
                    category=option.category,
                )
            )
        since = point
    return out
