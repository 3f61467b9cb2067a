"""Hard forget really forgets: the item's text, author and source reference leave every
version, and text other items copied from it (note contexts and keywords, evolved
neighbours, the next conversation turn's context, concepts distilled from a trace) leaves
every version of those items, the full-text index and the database file itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

import memos
from memos.agents.zettelkasten import NoteSettings
from memos.testing import FakeClock, HashEmbedder, ScriptedLLM

# Words that occur only in what gets forgotten (its text, author, source reference).
SECRETS = ("zorblax", "quxley", "vexmor")


@pytest.fixture
def opened(home: Path, db_url: str | None, clock: FakeClock) -> memos.MemOS:
    return memos.open(home, url=db_url, user="alice", embedder=HashEmbedder(dim=64), clock=clock)


def _traces_in_sql(url: str) -> dict[str, int]:
    """How often each secret occurs in any column of any row of any table."""
    engine = create_engine(url)
    found = dict.fromkeys(SECRETS, 0)
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    values = " ".join(
                        v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row
                    ).lower()
                    for secret in SECRETS:
                        found[secret] += values.count(secret)
    finally:
        engine.dispose()
    return {k: v for k, v in found.items() if v}


def _traces_in_files(home: Path) -> dict[str, list[str]]:
    """Which files under the home hold a secret, byte for byte (SQLite pages, the WAL,
    index files): the text must be gone, not merely unreachable."""
    found: dict[str, list[str]] = {}
    for path in sorted(home.rglob("*")):
        if path.is_file():
            data = path.read_bytes().lower()
            for secret in SECRETS:
                if secret.encode() in data:
                    found.setdefault(secret, []).append(str(path.relative_to(home)))
    return found


def _everything_forgettable(cube: memos.MemCube) -> dict[str, int]:
    """Writes items whose text others copy; returns the ids of what is forgotten and of
    what copied from it."""
    checklist = cube.add("Reactor maintenance checklist for Tuesday shifts")
    secret = cube.note(
        "Zorblax reactor maintenance happens every Tuesday at the plant",
        agent="Quxley",
        source_ref="msg-Vexmor-17",
    )
    # The checklist was evolved by the secret note: its context now names the note's topics.
    assert "zorblax" in (cube.get(checklist.id).context or "").lower()
    borrower = cube.note("Reactor maintenance on Tuesday needs two technicians")
    assert "zorblax" in (borrower.note.context or "").lower()
    cube.update(borrower.note.id, "Reactor maintenance on Tuesday needs three technicians")
    first, second = cube.add_conversation(
        [
            {"speaker": "Quxley", "text": "The zorblax valve is leaking again", "id": "Vexmor-1"},
            {"speaker": "bob", "text": "ok I will check it after lunch"},
        ]
    )
    assert "zorblax" in (second.context or "")
    abstraction = cube.abstract(
        "Step 1: open the zorblax valve slowly\n"
        "Heuristic: bleed the pressure first - always bleed before opening a valve",
        task="fix the zorblax leak",
    )
    [concept] = [change.concept for change in abstraction.changes]
    assert "zorblax" in (cube.get(concept.id).content or "").lower()
    return {
        "checklist": checklist.id,
        "secret": secret.note.id,
        "borrower": borrower.note.id,
        "first": first.id,
        "second": second.id,
        "trace": abstraction.trace.id,
        "concept": concept.id,
    }


def test_hard_forget_leaves_no_trace_anywhere(
    opened: memos.MemOS, home: Path, db_url: str | None
) -> None:
    cube = opened.create_cube("work")
    ids = _everything_forgettable(cube)
    for name in ("secret", "first", "trace"):
        cube.forget(ids[name], hard=True)

    for name in ("secret", "first", "trace"):
        for version in cube.history(ids[name]):
            item = version.item
            assert (item.content, item.author, item.source_ref, item.context) == (None,) * 4
            assert item.keywords == () and item.tags == () and item.attributes == {}
    borrower = cube.get(ids["borrower"])
    assert borrower.context is None and borrower.version == 2  # purged in place
    assert all(v.item.context is None for v in cube.history(ids["borrower"]))
    assert "copied_from" not in borrower.attributes
    assert cube.get(ids["checklist"]).context is None
    assert cube.get(ids["second"]).context is None
    assert cube.get(ids["second"]).content == "ok I will check it after lunch"
    # The concept held the trace's text and had no version without it: it goes too.
    with pytest.raises(memos.NotFoundError):
        cube.get(ids["concept"])
    # Vector search always answers something; the words themselves match nothing.
    assert all(h.scores["lexical"] == 0 for h in cube.search("zorblax quxley vexmor", k=50))
    assert cube.search("reactor maintenance technicians", k=3)[0].item.id == ids["borrower"]
    exported = home.parent / "after.jsonl"
    cube.export_jsonl(exported)
    assert not any(s in exported.read_text().lower() for s in SECRETS)

    opened.close()
    if db_url is None:
        assert _traces_in_sql(f"sqlite:///{home / 'memos.db'}") == {}
        assert _traces_in_files(home) == {}
    else:
        assert _traces_in_sql(db_url) == {}


def test_purge_restores_what_an_item_had_before_the_copy(opened: memos.MemOS) -> None:
    """An evolution replaced a neighbour's own context and tags; forgetting the note
    brings back the neighbour's own, and every later version keeps its own changes."""
    cube = opened.create_cube("work")
    neighbour = cube.add(
        "Pump maintenance log for the night crew",
        type="note",
        context="Kept by the night crew since 2019.",
        tags=["pumps"],
    )
    plan = {
        "links": [{"id": neighbour.id, "kind": "related", "reason": "both about zorblax pumps"}],
        "evolve": [{"id": neighbour.id, "context": "Now about the zorblax pump.",
                    "tags": ["pumps", "zorblax"]}],
    }  # fmt: skip
    construction = {"keywords": ["zorblax pump"], "tags": ["zorblax"], "context": "Zorblax."}
    llm = ScriptedLLM().when("TASK: construct", json.dumps(construction))
    llm.when("TASK: link", json.dumps(plan))
    note = cube.note("Zorblax pump three failed during the night maintenance", llm=llm).note
    evolved = cube.get(neighbour.id)
    assert evolved.context == "Now about the zorblax pump." and "zorblax" in evolved.tags
    assert evolved.attributes["copied_from"]["context"] == [neighbour.id, note.id]
    cube.update(neighbour.id, importance=0.9)

    cube.forget(note.id, hard=True)
    restored = cube.get(neighbour.id)
    assert restored.context == "Kept by the night crew since 2019."
    assert restored.tags == ("pumps",) and restored.importance == 0.9
    assert [v.item.context for v in cube.history(neighbour.id)] == [
        "Kept by the night crew since 2019."
    ] * 3
    assert "copied_from" not in restored.attributes
    assert cube.links(neighbour.id) == []


def test_a_concept_rolls_back_to_before_the_forgotten_trace(opened: memos.MemOS) -> None:
    cube = opened.create_cube("work")
    first = cube.abstract(
        "Heuristic: bleed the pressure - always bleed before opening a valve",
        task="open a stuck valve",
    )
    [concept] = [c.concept for c in first.changes]
    second = cube.abstract(
        "Heuristic: bleed the pressure - the zorblax valve needs two turns",
        task="open the zorblax valve",
    )
    assert [c.concept.id for c in second.changes] == [concept.id]
    assert "zorblax" in (cube.get(concept.id).content or "")

    cube.forget(second.trace.id, hard=True)
    rolled = cube.get(concept.id)
    assert "zorblax" not in (rolled.content or "") and rolled.content
    assert rolled.content == cube.history(concept.id)[0].item.content
    assert all("zorblax" not in (v.item.content or "") for v in cube.history(concept.id))
    # Rolled back text gets a vector again and is found by it.
    assert cube.search("bleed the pressure before opening", k=1)[0].item.id == concept.id
    assert cube.stats()["indexed_vectors"] == len(cube.items(status=["activated"]))


def test_private_text_never_flows_into_a_shared_note(opened: memos.MemOS) -> None:
    """A candidate lends words to a note only if the note's readers may read it."""
    cube = opened.create_cube("work")
    cube.grant("bob", "read")
    private = cube.add(
        "Zorblax reactor salary review for Tuesday", visibility="private", keywords=["zorblax"]
    )
    settings = NoteSettings(min_similarity=0.0)
    shared = cube.note("Reactor review on Tuesday", settings=settings)
    assert private.id not in shared.candidates
    assert "zorblax" not in json.dumps(shared.note.to_dict()).lower()
    assert cube.get(private.id).version == 1  # not evolved by a note its reader may see
    mine = cube.note("Reactor review on Tuesday again", visibility="private", settings=settings)
    assert private.id in mine.candidates
    bob = opened.as_user("bob").cube("work")
    assert all(private.id not in n.candidates for n in [shared])
    assert "zorblax" not in json.dumps([i.to_dict() for i in bob.items()]).lower()
