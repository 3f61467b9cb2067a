"""The generator's ground truth: a small team's tickets, pull requests, releases and
project name, and every change to them with the event that made it.

The timeline writer (`memos.eval.memtrack.generator`) changes the world only through
`World.set`, which records (event, value) in the key's history; questions and their
answers are read back from these histories, never typed by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

PEOPLE = [
    "alice",
    "bob",
    "carol",
    "dan",
    "erin",
    "farah",
    "gus",
    "hana",
    "ivan",
    "jun",
    "kofi",
    "lena",
    "mateo",
    "nadia",
    "omar",
    "priya",
]
PREFIXES = ("ENG", "PAY", "WEB", "OPS", "API", "MOB", "DATA", "SEC")
TITLES = (
    "Payment retries",
    "Login timeout on SSO",
    "CSV export drops rows",
    "Flaky checkout test",
    "Rate limiter for webhooks",
    "Dark mode toggle",
    "Search latency regression",
    "Upgrade Postgres to 16",
    "Onboarding email copy",
    "Mobile push opt-in",
    "Invoice PDF rendering",
    "Audit log retention",
    "Password reset link expiry",
    "Cache warmup after deploy",
    "Broken pagination on orders",
    "Feature flag cleanup",
)
RENAMED_TITLES = (
    "Retry failed payments with backoff",
    "Session expiry during SSO login",
    "Export large reports in chunks",
    "Stabilise the checkout suite",
    "Throttle outbound webhooks",
    "Theme switcher in settings",
    "Speed up search ranking",
    "Move billing to Postgres 16",
)
REPOS = ("payments-api", "web-app", "infra", "mobile-app", "search-service", "billing-worker")
CODENAMES = [
    "Atlas",
    "Apollo",
    "Borealis",
    "Cobalt",
    "Delta",
    "Ember",
    "Falcon",
    "Granite",
    "Harbor",
    "Juniper",
    "Kestrel",
    "Lumen",
]
FLOW = ("Todo", "In Progress", "In Review", "Done")
BLOCKED = "Blocked"


@dataclass
class Change:
    """One value of a key and the event that set it."""

    value: str
    event: str
    position: int  # index of the event in the timeline


@dataclass
class Ticket:
    key: str
    title: str
    status: str = "Todo"
    assignee: str | None = None
    prs: list[int] = field(default_factory=list)


@dataclass
class PullRequest:
    number: int
    ticket: str
    author: str
    repo: str
    branch: str
    merged_by: str | None = None
    reverted_by: str | None = None
    merge_event: str | None = None
    revert_event: str | None = None


@dataclass
class Release:
    name: str  # "v2.4"
    day: date


@dataclass
class World:
    """Ground truth: current values, and the history of every key."""

    people: list[str]
    tickets: dict[str, Ticket]
    releases: dict[str, Release]
    project: str
    prs: dict[int, PullRequest] = field(default_factory=dict)
    history: dict[str, list[Change]] = field(default_factory=dict)
    original_project: str = ""

    def __post_init__(self) -> None:
        self.original_project = self.original_project or self.project

    def set(self, key: str, value: str, event: str, position: int) -> None:
        """Record a new value of `key` (a no-op when the value does not change)."""
        changes = self.history.setdefault(key, [])
        if changes and changes[-1].value == value:
            return
        changes.append(Change(value, event, position))

    def at(self, key: str, position: int) -> list[Change]:
        """The history of `key` up to and including event `position`."""
        return [c for c in self.history.get(key, []) if c.position <= position]


def day_forms(day: date) -> list[str]:
    """The ways an answer naming a day may be written (all acceptable)."""
    month = day.strftime("%B")
    return [f"{month} {day.day}", f"{day.day} {month}", day.isoformat(), f"{month[:3]} {day.day}"]


def pr_forms(number: int) -> list[str]:
    return [f"PR #{number}", f"#{number}", str(number), f"pull request #{number}"]
