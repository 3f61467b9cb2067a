"""A seeded generator of MEMTRACK-style instances: a small team's Slack, Linear, Git and
calendar events, interleaved, with the questions asked along the way.

What happens: tickets are created, assigned, reassigned, renamed and moved through
Todo -> In Progress -> In Review -> Done (sometimes Blocked, sometimes sent back after a
review); pull requests are opened, merged and sometimes reverted, which reopens their
ticket; release dates slip; the project is renamed. State changes are written in several
wordings, on the tracker or announced in Slack. Between them runs chatter that mentions
the same tickets, releases and pull requests without changing them: questions, hedges
("might be done by Friday"), negations ("is not done yet"), reminders restating a value,
praise, unrelated commits and small talk.

Every answer is read from the ground truth (`memos.eval.memtrack.world`) at the point the
question is asked; nothing is typed by hand. The same seed gives the same instances.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from memos.errors import InvalidInputError
from memos.eval.memtrack.format import Event, Instance, write_instance
from memos.eval.memtrack.generated_questions import ask_questions
from memos.eval.memtrack.world import (
    BLOCKED,
    CODENAMES,
    FLOW,
    PEOPLE,
    PREFIXES,
    RENAMED_TITLES,
    REPOS,
    TITLES,
    PullRequest,
    Release,
    Ticket,
    World,
)

DEFAULT_EVENTS = 120


def _day(moment: datetime) -> str:
    return f"{moment:%B} {moment.day}"


@dataclass
class _Writer:
    """Writes one timeline: emits events and keeps the world's truth in step."""

    rng: random.Random
    world: World
    repos: list[str]
    now: datetime
    events: list[Event] = field(default_factory=list)
    next_pr: int = 0
    renamed_project: bool = False
    reverts: int = 0

    # -- plumbing ---------------------------------------------------------------------------

    def tick(self) -> None:
        self.now += timedelta(minutes=self.rng.randint(8, 150))
        if self.now.hour >= 18:
            self.now = (self.now + timedelta(days=1)).replace(
                hour=9, minute=self.rng.randint(0, 40)
            )
        while self.now.weekday() >= 5:
            self.now += timedelta(days=1)

    def emit(self, platform: str, actor: str, text: str, channel: str | None = None,
             **meta: Any) -> str:  # fmt: skip
        number = len(self.events) + 1
        if platform == "git":
            event_id = f"{self.rng.getrandbits(28):07x}"
            meta.setdefault("sha", event_id)
        else:
            event_id = f"{platform[:3]}-{number:04d}"
        self.events.append(Event(event_id, self.now, platform, actor, text, channel, meta))
        return event_id

    def truth(self, key: str, value: str, event: str) -> None:
        self.world.set(key, value, event, len(self.events) - 1)

    def person(self, *, besides: str | None = None) -> str:
        return self.rng.choice([p for p in self.world.people if p != besides])

    # -- tickets ----------------------------------------------------------------------------

    def create(self, ticket: Ticket) -> None:
        actor = self.person()
        owner = self.person()
        ticket.assignee = owner
        text = self.rng.choice([
            f"Created {ticket.key} '{ticket.title}'. Status: Todo. Assignee: @{owner}",
            f"New issue {ticket.key}: {ticket.title} (Todo), assigned to @{owner}",
        ])  # fmt: skip
        ref = self.emit("linear", actor, text, ticket=ticket.key, title=ticket.title)
        for attribute, value in (("status", "Todo"), ("assignee", owner), ("title", ticket.title)):
            self.truth(f"{ticket.key}/{attribute}", value, ref)

    def move(self, ticket: Ticket, new: str, actor: str, *, why: str = "") -> None:
        old, key = ticket.status, ticket.key
        ticket.status = new
        form = self.rng.random()
        suffix = f" ({why})" if why else ""
        if form < 0.55:
            text = self.rng.choice([
                f"{key} status: {old} -> {new}{suffix}",
                f"Moved {key} from {old} to {new}{suffix}",
                f"{actor} changed the status of {key} from {old} to {new}{suffix}",
            ])  # fmt: skip
            meta = {"ticket": key, "field": "status", "from": old, "to": new}
            ref = self.emit("linear", actor, text, **meta)
        else:
            text = self.rng.choice([
                f"{key} is now {new.lower()}.",
                f"Moved {key} to {new}{suffix}.",
                f"Quick update: {key} is {new.lower()} as of this morning.",
                f"FYI {key} went to {new}{suffix}.",
            ])  # fmt: skip
            ref = self.emit("slack", actor, text, channel="#eng")
        self.truth(f"{key}/status", new, ref)

    def assign(self, ticket: Ticket) -> None:
        old = ticket.assignee
        new = self.person(besides=old)
        ticket.assignee = new
        form = self.rng.randrange(4)
        if form == 0:
            change = {"from": old, "to": new}
            ref = self.emit("linear", self.person(), f"Assigned {ticket.key} to @{new}",
                            ticket=ticket.key, field="assignee", **change)  # fmt: skip
        elif form == 1:
            ref = self.emit("linear", self.person(), f"{ticket.key} assignee: {old} -> {new}",
                            ticket=ticket.key)  # fmt: skip
        elif form == 2:
            ref = self.emit("slack", new, f"I'll take {ticket.key} from @{old}.", channel="#eng")
        else:
            ref = self.emit("slack", old or new, f"Handing {ticket.key} over to @{new}, "
                            "I'm out next week.", channel="#eng")  # fmt: skip
        self.truth(f"{ticket.key}/assignee", new, ref)

    def rename(self, ticket: Ticket, title: str) -> None:
        old, ticket.title = ticket.title, title
        ref = self.emit("linear", self.person(), f"Renamed {ticket.key} from '{old}' to '{title}'",
                        ticket=ticket.key, field="title", **{"from": old, "to": title})  # fmt: skip
        self.truth(f"{ticket.key}/title", title, ref)

    def advance(self, ticket: Ticket) -> None:
        """One step of a ticket's flow, with the pull requests the step needs."""
        owner = ticket.assignee or self.person()
        if ticket.status == "Todo":
            self.move(ticket, "In Progress", owner)
        elif ticket.status == BLOCKED:
            self.move(ticket, "In Progress", owner, why="unblocked")
        elif ticket.status == "In Progress":
            if self.rng.random() < 0.2:
                self.move(ticket, BLOCKED, owner, why="waiting on infra")
                return
            self.open_pr(ticket, owner)
            self.tick()
            self.move(ticket, "In Review", owner)
        elif ticket.status == "In Review":
            pr = self.world.prs[ticket.prs[-1]]
            if self.rng.random() < 0.2:
                reviewer = self.person(besides=owner)
                self.move(
                    ticket, "In Progress", reviewer, why=f"changes requested on PR #{pr.number}"
                )
                return
            self.merge(pr)
            self.tick()
            self.move(ticket, "Done", pr.merged_by or owner)

    # -- pull requests ------------------------------------------------------------------------

    def open_pr(self, ticket: Ticket, author: str) -> None:
        self.next_pr += self.rng.randint(1, 6)
        number = self.next_pr
        repo = self.rng.choice(self.repos)
        branch = f"{author}/{ticket.key.lower()}"
        self.world.prs[number] = PullRequest(number, ticket.key, author, repo, branch)
        ticket.prs.append(number)
        self.emit("git", author, f"Open PR #{number} in {repo}: {ticket.title} ({ticket.key})",
                  pr=number, repo=repo)  # fmt: skip

    def merge(self, pr: PullRequest) -> None:
        merger = self.person(besides=pr.author)
        pr.merged_by = merger
        ticket = self.world.tickets[pr.ticket]
        pr.merge_event = self.emit(
            "git", merger,
            f"Merge PR #{pr.number} from {pr.branch}: {ticket.title}\n\nFixes {pr.ticket}.",
            pr=pr.number, repo=pr.repo,
        )  # fmt: skip

    def revert(self, pr: PullRequest) -> None:
        reverter = self.person()
        pr.reverted_by = reverter
        self.reverts += 1
        pr.revert_event = self.emit(
            "git", reverter,
            f'Revert "Merge PR #{pr.number} from {pr.branch}"\n\nBroke {pr.repo} on staging.',
            pr=pr.number, repo=pr.repo,
        )  # fmt: skip
        ticket = self.world.tickets[pr.ticket]
        if ticket.status == "Done":
            self.tick()
            self.move(ticket, "In Progress", reverter, why=f"PR #{pr.number} was reverted")

    # -- releases and the project ----------------------------------------------------------------

    def schedule(self, release: Release) -> None:
        text = self.rng.choice([
            f"The {release.name} release is scheduled for {_day(self._at(release))}.",
            f"Calendar: {release.name} release on {_day(self._at(release))}.",
        ])  # fmt: skip
        ref = self.emit("calendar", self.person(), text, subject=f"{release.name} release")
        self.truth(f"{release.name}/date", release.day.isoformat(), ref)

    def slip(self, release: Release) -> None:
        release.day += timedelta(days=self.rng.randint(3, 12))
        when = _day(self._at(release))
        text = self.rng.choice([
            f"Heads up: the {release.name} release slipped to {when}.",
            f"We pushed the {release.name} release to {when}.",
            f"New date for the {release.name} release: {when}, QA needs more time.",
            f"The {release.name} release moved to {when}.",
        ])  # fmt: skip
        ref = self.emit("slack", self.person(), text, channel="#release")
        self.truth(f"{release.name}/date", release.day.isoformat(), ref)

    def _at(self, release: Release) -> datetime:
        return datetime(release.day.year, release.day.month, release.day.day, tzinfo=UTC)

    def rename_project(self) -> None:
        old = self.world.project
        new = self.rng.choice([c for c in CODENAMES if c != old])
        self.world.project, self.renamed_project = new, True
        ref = self.emit("slack", self.person(), f"Heads up: we renamed project {old} to {new}.",
                        channel="#general")  # fmt: skip
        self.truth("project/name", new, ref)

    # -- noise -----------------------------------------------------------------------------------

    def chatter(self) -> None:
        rng, world = self.rng, self.world
        tickets = [t for t in world.tickets.values() if f"{t.key}/status" in world.history]
        ticket = rng.choice(tickets)
        other = rng.choice([s for s in (*FLOW[1:], BLOCKED) if s != ticket.status])
        unmet = "done" if ticket.status != "Done" else "blocked"
        release = rng.choice(list(world.releases.values()))
        guess = _day(self._at(release) + timedelta(days=rng.randint(2, 9)))
        merged = [p for p in world.prs.values() if p.merged_by]
        pr = rng.choice(merged) if merged else None
        actor = self.person(besides=pr.author if pr else None)
        lines = [
            f"Does anyone know where {ticket.key} stands?",
            f"Is {ticket.key} still {other.lower()}?",
            f"{ticket.key} might be {other.lower()} by Friday.",
            f"I think we could move {ticket.key} to {other} tomorrow.",
            f"{ticket.key} is not {unmet} yet.",
            f"Customer asked about {ticket.key} again on the call.",
            f"{ticket.key} came up in standup, no change there.",
            f"FYI {ticket.key} is {ticket.status.lower()}.",
            f"We might push the {release.name} release to {guess}.",
            f"Is the {release.name} release still on {_day(self._at(release))}?",
            f"Reminder: the {release.name} release is on {_day(self._at(release))}.",
            f"The {release.name} release notes draft is in the doc.",
            f"Project {world.project} weekly sync notes are up.",
            "Standup notes are in the doc.",
            "CI is slow today, bear with me.",
            "Lunch at 12?",
            "Who has the on-call pager this week?",
        ]
        if pr is not None:
            lines += [f"Nice work on PR #{pr.number}, @{pr.author}!",
                      f"Can someone double-check the rollout of PR #{pr.number}?"]  # fmt: skip
        if rng.random() < 0.12:
            repo = rng.choice(self.repos)
            message = rng.choice(["Bump dependencies", "Fix typo in README", "Tidy CI config"])
            self.emit("git", actor, f"{message} in {repo}", repo=repo)
            return
        self.emit("slack", actor, rng.choice(lines), channel=rng.choice(["#eng", "#random"]))


def _writer(rng: random.Random, start: datetime) -> _Writer:
    people = rng.sample(PEOPLE, 5)
    prefix = rng.choice(PREFIXES)
    numbers = sorted(rng.sample(range(100, 999), 5))
    titles = rng.sample(TITLES, 5)
    tickets = {
        f"{prefix}-{n}": Ticket(f"{prefix}-{n}", t) for n, t in zip(numbers, titles, strict=True)
    }
    major = rng.randint(1, 4)
    minor = rng.randint(0, 7)
    releases = {
        f"v{major}.{minor + i}": Release(
            f"v{major}.{minor + i}",
            (start + timedelta(days=14 + 10 * i + rng.randint(0, 5))).date(),
        )
        for i in range(2)
    }
    world = World(people, tickets, releases, rng.choice(CODENAMES))
    writer = _Writer(rng, world, rng.sample(REPOS, 2), start)
    writer.next_pr = rng.randint(20, 400)
    return writer


def _timeline(writer: _Writer, target: int) -> None:
    rng, world = writer.rng, writer.world
    waiting = list(world.tickets.values())
    for release in world.releases.values():
        writer.schedule(release)
        writer.tick()
    writer.create(waiting.pop(0))
    titles = [t for t in RENAMED_TITLES if t not in {x.title for x in world.tickets.values()}]
    while len(writer.events) < target:
        writer.tick()
        live = [t for t in world.tickets.values() if f"{t.key}/status" in world.history]
        open_ = [t for t in live if t.status != "Done"]
        merged = [p for p in world.prs.values() if p.merged_by and not p.reverted_by]
        roll = rng.random()
        if waiting and (roll < 0.08 or not open_):
            writer.create(waiting.pop(0))
        elif roll < 0.34 and open_:
            writer.advance(rng.choice(open_))
        elif roll < 0.41:
            writer.assign(rng.choice(open_ or live))
        elif roll < 0.44 and titles:
            writer.rename(rng.choice(live), titles.pop(rng.randrange(len(titles))))
        elif roll < 0.50:
            writer.slip(rng.choice(list(world.releases.values())))
        elif roll < 0.52 and not writer.renamed_project:
            writer.rename_project()
        elif roll < 0.56 and merged and writer.reverts < 2:
            writer.revert(rng.choice(merged))
        else:
            writer.chatter()


def simulate(seed: int, index: int, *, events: int = DEFAULT_EVENTS) -> tuple[World, Instance]:
    """One instance and the ground truth it was written from (the same for the same
    seed, index and events).

    Raises:
        InvalidInputError: fewer than 30 events asked for.
    """
    if events < 30:
        raise InvalidInputError("a generated timeline needs at least 30 events")
    rng = random.Random(f"memtrack:{seed}:{index}")
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC) + timedelta(weeks=rng.randint(0, 40))
    writer = _writer(rng, start)
    _timeline(writer, events)
    questions = ask_questions(rng, writer.world, writer.events)
    return writer.world, Instance(
        id=f"gen-s{seed}-{index:03d}",
        events=tuple(writer.events),
        questions=tuple(questions),
        description=(
            f"generated (seed {seed}, #{index}): {len(writer.world.tickets)} tickets, "
            f"{len(writer.world.prs)} pull requests, {len(writer.world.releases)} releases, "
            f"{len(writer.events)} events"
        ),
        source=f"generated seed {seed} #{index}",
    )


def generate_instance(seed: int, index: int, *, events: int = DEFAULT_EVENTS) -> Instance:
    """One instance, the same for the same (seed, index, events).

    Raises:
        InvalidInputError: fewer than 30 events asked for.
    """
    return simulate(seed, index, events=events)[1]


def generate(n: int, seed: int, *, events: int = DEFAULT_EVENTS) -> list[Instance]:
    """`n` instances from `seed`.

    Raises:
        InvalidInputError: n < 1 or too few events.
    """
    if n < 1:
        raise InvalidInputError("--n must be at least 1")
    return [generate_instance(seed, i, events=events) for i in range(n)]


def write(instances: list[Instance], folder: Path) -> list[Path]:
    """Write instances as `<id>.json` files into `folder` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for instance in instances:
        path = folder / f"{instance.id}.json"
        write_instance(instance, path)
        paths.append(path)
    return paths
