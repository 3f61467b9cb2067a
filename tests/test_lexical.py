"""The lexical index contract: BM25 in SQL, the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

import memos
from memos.text import query_terms


def _lexical(cube: memos.MemCube, mos: memos.MemOS, query: str) -> list[int]:
    return [i for i, _ in mos.kernel.store.lexical_search(cube.id, mos.user, query, 50)]


def test_bm25_ranks_rarer_and_more_terms_higher(cube: memos.MemCube, mos: memos.MemOS) -> None:
    both = cube.add("the zeppelin hangar opens on monday")
    one = cube.add("the hangar is cold")
    cube.add_many([f"the hangar stores crate {n}" for n in range(8)])
    cube.add("nothing relevant here")
    ranked = _lexical(cube, mos, "zeppelin hangar")
    assert ranked[0] == both.id
    assert one.id in ranked and len(ranked) == 10  # OR semantics: any query term matches
    scores = dict(mos.kernel.store.lexical_search(cube.id, mos.user, "zeppelin hangar", 50))
    assert scores[both.id] > scores[one.id]


def test_terms_in_most_documents_do_not_flood_large_cubes(
    cube: memos.MemCube, mos: memos.MemOS
) -> None:
    # Every text says "status" and "report": under BM25 those terms score nothing here, so a
    # large cube leaves them out of the match instead of scoring all 2,500 documents.
    cube.add_many([f"status report {n} for the team" for n in range(2500)])
    zebra = cube.add("status report on the zebra migration")
    both = _lexical(cube, mos, "zebra migration status report")
    assert both == [zebra.id]
    scores = dict(mos.kernel.store.lexical_search(cube.id, mos.user, "zebra status", 50))
    assert scores[zebra.id] == pytest.approx(
        dict(mos.kernel.store.lexical_search(cube.id, mos.user, "zebra", 50))[zebra.id], rel=1e-3
    )
    # Only flooding terms: the rarest of them still finds something.
    assert len(_lexical(cube, mos, "status report")) == 50
    # A term in fewer than half the documents keeps its place in the match.
    cube.add_many([f"quarterly figure {n}" for n in range(1000)])
    assert len(_lexical(cube, mos, "zebra quarterly")) == 50


def test_stemming_and_case(cube: memos.MemCube, mos: memos.MemOS) -> None:
    item = cube.add("Caroline was PAINTING sunsets by the lake")
    assert _lexical(cube, mos, "paint sunset") == [item.id]
    assert _lexical(cube, mos, "LAKES") == [item.id]


def test_index_follows_every_change(cube: memos.MemCube, mos: memos.MemOS) -> None:
    item = cube.add("the meeting is in room alpha")
    cube.update(item.id, "the meeting moved to room bravo")
    assert _lexical(cube, mos, "alpha") == []
    assert _lexical(cube, mos, "bravo") == [item.id]
    cube.update(item.id, tags=["quarterly"], context="planning thread")
    assert _lexical(cube, mos, "quarterly") == [item.id]
    assert _lexical(cube, mos, "planning") == [item.id]
    cube.revert(item.id, 1)
    assert _lexical(cube, mos, "alpha") == [item.id]
    cube.forget(item.id)
    assert _lexical(cube, mos, "alpha") == []
    hard = cube.add("purge this walrus")
    cube.forget(hard.id, hard=True)
    assert _lexical(cube, mos, "walrus") == []


def test_author_context_and_event_date_are_searchable(
    cube: memos.MemCube, mos: memos.MemOS
) -> None:
    item = cube.add("I went to the support group", author="Caroline", context="Mel: what's new?",
                    valid_from="2023-05-08")  # fmt: skip
    assert _lexical(cube, mos, "Caroline") == [item.id]
    assert _lexical(cube, mos, "new Mel") == [item.id]
    assert _lexical(cube, mos, "May 2023") == [item.id]


def test_cubes_isolated_and_permission_checked(mos: memos.MemOS) -> None:
    work = mos.create_cube("work")
    home = mos.create_cube("home")
    mine = work.add("quokka sighting")
    home.add("quokka sighting at home")
    assert _lexical(work, mos, "quokka") == [mine.id]
    with pytest.raises(memos.PermissionDeniedError):
        mos.kernel.store.lexical_search(work.id, "mallory", "quokka", 10)
    mos.drop_cube("home")
    assert _lexical(work, mos, "quokka") == [mine.id]


def test_stopword_only_queries_match_nothing(cube: memos.MemCube, mos: memos.MemOS) -> None:
    cube.add("what is the plan")
    assert query_terms("what is the") == []
    assert _lexical(cube, mos, "what is the") == []
    assert query_terms("When did Caroline go, in 2023?") == ["caroline", "go", "2023"]


def test_import_rebuilds_the_lexical_index(cube: memos.MemCube, mos: memos.MemOS, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cube.add("the narwhal tusk is a tooth")
    path = tmp_path / "x.jsonl"
    cube.export_jsonl(path)
    copy = mos.import_jsonl(path, name="copy")
    assert len(_lexical(copy, mos, "narwhal")) == 1


def test_scores_depend_on_the_cube_only(mos: memos.MemOS) -> None:
    first = mos.create_cube("first")
    item = first.add("the heron nests by the river")
    first.add("the river is wide")
    before = dict(mos.kernel.store.lexical_search(first.id, mos.user, "heron river", 10))
    other = mos.create_cube("other")
    other.add_many([f"heron sighting number {n}" for n in range(30)])
    after = dict(mos.kernel.store.lexical_search(first.id, mos.user, "heron river", 10))
    assert after == pytest.approx(before)
    assert set(after) == {item.id, item.id + 1}


@pytest.mark.postgres
def test_postgresql_scores_only_the_postings_of_the_query_terms(
    pg_url: str, tmp_path: Path
) -> None:
    """The BM25 query reads postings through their (cube, lexeme) key, never a scan of
    the cube (EXPLAIN of the real query on a cube big enough for the planner to care)."""
    with memos.open(tmp_path / "home", url=pg_url, user="alice", embedder="hash") as mos:
        cube = mos.create_cube("big")
        words = ["harbour", "lantern", "quarry", "meadow", "furnace", "glacier", "orchard"]
        cube.add_many(
            f"note {n} about the {words[n % 7]} and the {words[(n * 3) % 7]} {n % 97}"
            for n in range(3000)
        )
        store = mos.kernel.store
        with store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            plan = store.lexical.explain(conn, cube.id, ["harbour", "glacier"])
        assert "memos_lexical_postings_pkey" in plan, plan
        assert "Seq Scan on memos_lexical_postings" not in plan, plan
        # The key covers tf and doclen: scoring never visits the table.
        assert "Index Only Scan using memos_lexical_postings_pkey" in plan, plan
        assert [h.item.content for h in cube.search("harbour glacier 5", k=1)]


@pytest.mark.postgres
def test_postgresql_statistics_follow_a_bulk_load(pg_url: str, tmp_path: Path) -> None:
    """Right after a bulk load the planner must know the table is large: a handful of ids
    is then fetched by primary key, not by scanning the cube's status index."""
    from sqlalchemy import text

    with memos.open(tmp_path / "home", url=pg_url, user="alice", embedder="hash") as mos:
        cube = mos.create_cube("bulk")
        cube.add_many(f"bulk note {n}" for n in range(1500))
        with mos.kernel.store.engine.connect() as conn:
            counted = conn.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = 'memos_items'::regclass")
            ).scalar_one()
            plan = "\n".join(
                str(row[0])
                for row in conn.execute(
                    text(
                        "EXPLAIN SELECT id FROM memos_items WHERE cube_id = :cube "
                        "AND id = ANY(:ids) AND status IN ('activated', 'frozen')"
                    ),
                    {"cube": cube.id, "ids": [5, 50, 500]},
                )
            )
    assert counted >= 1500
    assert "memos_items_pkey" in plan, plan


@pytest.mark.postgres
def test_postgresql_cached_frequencies_score_as_fresh_counts(pg_url: str, tmp_path: Path) -> None:
    """A common term's document frequency is cached; scores from the cache equal scores
    from a fresh count, and a rare word written after the cache filled is found at once."""
    with memos.open(tmp_path / "home", url=pg_url, user="alice", embedder="hash") as mos:
        cube = mos.create_cube("common")
        cube.add_many(
            f"harbour log {n}: the {'crane' if n % 3 else 'ferry'} left at {n % 24} hours"
            # "harbour" in all 2,400, "crane" in 1,600: counts past 1,000 (capped at half
            # the cube, 1,200), so both are cached; "ferry" (800) is counted each time.
            for n in range(2400)
        )
        store = mos.kernel.store
        query = "harbour crane ferry 7"
        fresh = store.lexical_search(cube.id, mos.user, query, 50)
        cached = store.lexical_search(cube.id, mos.user, query, 50)  # frequencies from cache
        assert cached == fresh and len(fresh) == 50
        rare = cube.add("harbour crane meets the zeppelin")
        hits = [i for i, _ in store.lexical_search(cube.id, mos.user, "zeppelin crane", 5)]
        assert hits[0] == rare.id
        store.lexical.reset()  # recounted: the same ranking
        assert [i for i, _ in store.lexical_search(cube.id, mos.user, "zeppelin crane", 5)] == hits
