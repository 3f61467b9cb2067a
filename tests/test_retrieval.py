"""The hybrid pipeline: fusion, author boost, graph expansion, filters, time, priors,
re-ranking and explanations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

import memos
from memos.retrieval.hybrid import SearchWeights
from memos.retrieval.rerank import CrossEncoderReranker, TermCoverageReranker
from memos.testing import FakeClock, HashEmbedder


def ids(hits: Sequence[memos.Hit]) -> list[int]:
    return [h.item.id for h in hits]


def test_every_hit_explains_itself(cube: memos.MemCube) -> None:
    item = cube.add("the quarterly budget review is on friday")
    cube.add("unrelated note about gardening")
    [hit] = cube.search("budget review", k=1)
    assert hit.item.id == item.id
    parts = hit.scores
    assert parts["final"] == pytest.approx(hit.score)
    default = SearchWeights()
    assert parts["fused"] == pytest.approx(
        default.vector * parts["vector"] + default.lexical * parts["lexical"]
    )
    assert parts["final"] == pytest.approx(parts["fused"] * parts["prior"])
    assert parts["lexical"] == 1.0  # the best lexical hit normalises to 1


def test_lexical_finds_what_vectors_miss(cube: memos.MemCube) -> None:
    target = cube.add("ticket REL-4471 blocks the release")
    cube.add_many([f"release planning note {n}" for n in range(20)])
    assert ids(cube.search("REL-4471", k=1)) == [target.id]
    only_vector = cube.search("REL-4471", k=3, weights={"lexical": 0})
    weight = SearchWeights().vector
    assert all(h.scores["lexical"] == 0 or h.scores["fused"] == h.scores["vector"] * weight
               for h in only_vector)  # fmt: skip


def test_stage_weights_switch_stages_off(cube: memos.MemCube) -> None:
    cube.add("alpha beta gamma")
    hit = cube.search("alpha", k=1, weights={"vector": 0})[0]
    assert hit.scores["fused"] == pytest.approx(SearchWeights().lexical * hit.scores["lexical"])
    with pytest.raises(memos.InvalidInputError, match="unknown search weight"):
        cube.search("alpha", weights={"magic": 1})
    with pytest.raises(memos.InvalidInputError, match=">= 0"):
        cube.search("alpha", weights={"graph": -1})
    assert SearchWeights.of({"graph": 0}).graph == 0.0


def test_author_named_in_query_is_boosted(cube: memos.MemCube) -> None:
    alice = cube.add("I adopted a kitten last week", author="Alice")
    bob = cube.add("I adopted a kitten last week", author="Bob")
    hits = cube.search("What did Bob adopt?", k=2)
    assert ids(hits)[0] == bob.id
    assert hits[0].scores.get("author") == pytest.approx(SearchWeights().author)
    assert "author" not in hits[1].scores
    plain = cube.search("What did Bob adopt?", k=2, weights={"author": 0})
    assert all("author" not in h.scores for h in plain)
    assert alice.id in ids(plain)


def test_graph_expansion_surfaces_linked_neighbours(cube: memos.MemCube) -> None:
    question = cube.add("Mel asked where the pottery class meets")
    answer = cube.add("Thursday evenings at the community center")
    cube.add_many([f"filler memory number {n} about groceries" for n in range(10)])
    cube.link(question.id, answer.id, kind="next")
    hits = cube.search("pottery class", k=3)
    assert ids(hits)[:2] == [question.id, answer.id]
    assert hits[1].scores["graph"] == pytest.approx(0.3 * hits[0].scores["fused"], rel=1e-3)
    without = {h.item.id: h for h in cube.search("pottery class", k=12, weights={"graph": 0})}
    alone = without[answer.id]
    assert "graph" not in alone.scores
    # Without the link the answer keeps only its own (weak) evidence; its prior has grown
    # by the first search's access, which counts before the batch is written.
    assert alone.score == pytest.approx(hits[1].scores["fused"] * alone.scores["prior"])
    assert alone.score < hits[1].score / 3


def test_graph_expansion_respects_filters_and_permissions(mos: memos.MemOS) -> None:
    cube = mos.create_cube("team")
    public = cube.add("launch checklist for orion")
    secret = cube.add("salary numbers", visibility="private")
    archived = cube.add("old launch notes")
    cube.link(public.id, secret.id)
    cube.link(public.id, archived.id)
    cube.archive(archived.id)
    cube.grant("bob", "read")
    bob_hits = mos.as_user("bob").cube("team").search("orion checklist", k=5)
    assert ids(bob_hits) == [public.id]


def test_filters(cube: memos.MemCube, clock: FakeClock) -> None:
    slack = cube.add("deploy window friday", source="slack", type="event", tags=["ops", "prod"],
                     author="dana", valid_from="2024-01-10", valid_to="2024-02-01")  # fmt: skip
    git = cube.add("deploy script fixed", source="git", tags=["ops"], author="erin",
                   valid_from="2024-03-01")  # fmt: skip
    clock.advance(days=3)
    late = cube.add("deploy freeze announced", source="slack", tags=["prod"])
    assert ids(cube.search("deploy", sources=["git"])) == [git.id]
    assert ids(cube.search("deploy", types=["event"])) == [slack.id]
    assert ids(cube.search("deploy", authors=["erin"])) == [git.id]
    assert ids(cube.search("deploy", tags=["ops", "prod"])) == [slack.id]
    assert set(ids(cube.search("deploy", tags=["prod"]))) == {slack.id, late.id}
    in_january = cube.search("deploy", valid_from="2024-01-01", valid_to="2024-01-31")
    assert ids(in_january) == [slack.id]
    recent = cube.search("deploy", recorded_from=clock.now - timedelta(days=1))
    assert ids(recent) == [late.id]
    with pytest.raises(memos.InvalidInputError, match="valid_to must be after"):
        cube.search("deploy", valid_from="2024-02-01", valid_to="2024-01-01")


def test_as_of_returns_the_version_valid_then(cube: memos.MemCube, clock: FakeClock) -> None:
    item = cube.add("the office is on the second floor", valid_from="2024-01-01")
    clock.advance(days=1)
    cube.update(item.id, "the office moved to the fifth floor", valid_from="2024-06-01")
    then = cube.search("office floor", as_of="2024-03-01")
    assert [h.item.content for h in then] == ["the office is on the second floor"]
    now = cube.search("office floor")
    assert [h.item.content for h in now] == ["the office moved to the fifth floor"]
    assert cube.search("office floor", as_of="2023-01-01") == []


def test_facts_no_longer_valid_are_discounted(cube: memos.MemCube, clock: FakeClock) -> None:
    old = cube.add("Carol works at Initech", valid_from="2020-01-01", valid_to="2023-01-01")
    new = cube.add("Carol works at Globex", valid_from="2023-01-01")
    hits = cube.search("where does Carol work", k=2)
    assert ids(hits)[0] == new.id
    ended = next(h for h in hits if h.item.id == old.id)
    assert ended.scores["ended"] == 0.5
    assert "ended" not in cube.search("Initech", as_of="2021-01-01")[0].scores


def test_importance_breaks_ties(cube: memos.MemCube) -> None:
    low = cube.add("the wifi password is hunter2", importance=0.1)
    high = cube.add("the wifi password is hunter2!", importance=0.9)
    assert ids(cube.search("wifi password", k=2)) == [high.id, low.id]


def test_expired_and_archived_items_stay_out(cube: memos.MemCube, clock: FakeClock) -> None:
    temp = cube.add("door code 1234", ttl="1h")
    gone = cube.add("door code 9999")
    cube.archive(gone.id)
    assert ids(cube.search("door code")) == [temp.id]
    clock.advance(hours=2)
    assert cube.search("door code") == []


def test_query_embeddings_are_cached(tmp_path: Path, clock: FakeClock) -> None:
    embedder = HashEmbedder(dim=32)
    with memos.open(tmp_path, embedder=embedder, clock=clock) as mos:
        cube = mos.create_cube("c")
        cube.add("cache me")
        before = embedder.calls
        for _ in range(5):
            cube.search("cache me")
        assert embedder.calls == before + 1


class ReverseReranker:
    """A real (if contrary) reranker: prefers shorter texts."""

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        return [-float(len(t)) for t in texts]


def test_reranker_plugs_in(tmp_path: Path, clock: FakeClock) -> None:
    embedder = HashEmbedder(dim=64)
    with memos.open(tmp_path, embedder=embedder, clock=clock, reranker=ReverseReranker()) as mos:
        cube = mos.create_cube("c")
        long = cube.add("solar panels on the roof produce power all summer long")
        short = cube.add("roof")
        hits = cube.search("solar panels roof power", k=2)
        assert ids(hits) == [short.id, long.id]
        assert hits[0].scores["rerank"] == 1.0
        plain = cube.search("solar panels roof power", k=2, weights={"rerank": 0})
        assert ids(plain) == [long.id, short.id]


def test_term_coverage_reranker() -> None:
    scores = TermCoverageReranker().score(
        "painting sunset lake", ["she painted a sunset over the lake", "a lake", "nothing"]
    )
    assert scores[0] > scores[1] > scores[2] == 0.0


def test_cross_encoder_needs_a_model_folder(tmp_path: Path) -> None:
    with pytest.raises(memos.ConfigError, match="cross-encoder"):
        CrossEncoderReranker(tmp_path)


def test_superseded_facts_answer_only_as_of(cube: memos.MemCube, clock: FakeClock) -> None:
    old = cube.add("REL-12 is in progress", valid_from="2024-12-01")
    clock.advance(days=1)
    new = cube.add("REL-12 is done", valid_from="2024-12-02")
    ended, replacing = cube.supersede(old.id, by=new.id)
    assert (ended.valid_to, ended.superseded_by, replacing.supersedes) == (
        new.valid_from, new.id, old.id,
    )  # fmt: skip
    assert ids(cube.search("REL-12 status")) == [new.id]
    then = cube.search("REL-12 status", as_of="2024-12-01T12:00:00Z")
    assert [h.item.content for h in then] == ["REL-12 is in progress"]
    assert [v.operation for v in cube.history(old.id)] == ["add", "superseded"]
    with pytest.raises(memos.InvalidInputError, match="cannot be superseded"):
        cube.supersede(new.id, by=old.id)
    with pytest.raises(memos.InvalidInputError, match="itself"):
        cube.supersede(new.id, by=new.id)


def test_narrow_filters_find_items_beyond_the_candidate_pools(
    mos: memos.MemOS, cube: memos.MemCube
) -> None:
    cube.add_many([f"deploy note {n}: the deploy went fine" for n in range(130)])
    rare = cube.add("deploy rollback procedure", type="concept")
    retriever = mos.kernel.retriever
    retriever.pool = 20  # far fewer than the matching facts, so the concept falls outside
    try:
        assert ids(cube.search("deploy deploy note fine", k=3, types=["concept"])) == [rare.id]
    finally:
        retriever.pool = 100


def test_a_date_named_in_the_query_prefers_what_was_valid_then(cube: memos.MemCube) -> None:
    may = cube.add("Joanna: watched a movie last night", valid_from="2022-05-02T18:00:00Z")
    august = cube.add("Joanna: watched a movie last night", valid_from="2022-08-20T18:00:00Z")
    for query, first in (
        ("What movie did Joanna watch on 1 May, 2022?", may),
        ("What did Joanna watch on August 19th 2022?", august),
        ("What did Joanna watch in August 2022?", august),
    ):
        hits = cube.search(query, k=2)
        assert ids(hits) == [first.id, ({may.id, august.id} - {first.id}).pop()], query
        assert hits[0].scores["when"] == pytest.approx(SearchWeights().when)
        assert "when" not in hits[1].scores
        assert hits[0].scores["final"] == pytest.approx(
            hits[0].scores["fused"] * hits[0].scores["prior"]
        )
    # Off, or a date nothing was valid on: no boost, the tie stays a tie.
    assert all(
        "when" not in h.scores for h in cube.search("watch on 1 May, 2022", weights={"when": 0})
    )
    assert all("when" not in h.scores for h in cube.search("watch on 1 May, 2021"))


def test_query_dates_reads_days_months_and_years() -> None:
    from datetime import date

    from memos.text import query_dates

    day = date(2022, 5, 1)
    for text in ("on 1 May, 2022", "May 1st 2022", "2022-05-01", "the 1st of May 2022"):
        assert query_dates(text) == [(day, day)], text
    assert query_dates("in Sept. 2024") == [(date(2024, 9, 1), date(2024, 9, 30))]
    assert query_dates("in December 2023") == [(date(2023, 12, 1), date(2023, 12, 31))]
    assert query_dates("in 2023") == [(date(2023, 1, 1), date(2023, 12, 31))]
    # A day without a year takes the year named elsewhere, or is dropped.
    assert sorted(query_dates("between August 11 and August 15 2023")) == [
        (date(2023, 8, 11), date(2023, 8, 11)),
        (date(2023, 8, 15), date(2023, 8, 15)),
    ]
    assert query_dates("on May 1") == []
    assert query_dates("may I ask what changed?") == []
    assert query_dates("30 February 2022") == []  # no such day, and not a year either


def test_access_prior_does_not_wait_for_the_batch_to_be_written(
    cube: memos.MemCube, mos: memos.MemOS
) -> None:
    # Access counts are written in batches (by size or age); a ranking that read only the
    # written counts would change with how long ago the last batch went out.
    used = cube.add("the staging password rotates monthly")
    other = cube.add("the office plant needs water on fridays")
    for _ in range(4):
        cube.search("staging password", k=1)
    assert cube.get(used.id).access_count == 0  # still batched, not in the store
    probe = "password rotates, plant water"
    before = {h.item.id: h.scores["prior"] for h in cube.search(probe, k=2)}
    mos.flush()
    assert cube.get(used.id).access_count == 5 and cube.get(other.id).access_count == 1
    after = {h.item.id: h.scores["prior"] for h in cube.search(probe, k=2)}

    def boost(uses: int) -> float:  # the access prior's factor (weight 0.05 by default)
        return 1 + 0.05 * math.log1p(uses) / math.log1p(100)

    # Unwritten (4 uses against 0) and written (5 against 1) counts weigh the same.
    assert before[used.id] / before[other.id] == pytest.approx(boost(4))
    assert after[used.id] / after[other.id] == pytest.approx(boost(5) / boost(1))
