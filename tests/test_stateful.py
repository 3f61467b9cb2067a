"""A stateful property test: any sequence of add / update / forget / archive / reopen
leaves SQL, the vector index and a plain model of the cube in agreement."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import memos
from memos.testing import FakeClock, HashEmbedder

WORDS = st.lists(
    st.sampled_from(["apple", "river", "stone", "cloud", "tiger", "lemon", "piano", "orbit"]),
    min_size=1,
    max_size=4,
).map(" ".join)


class CubeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.home = Path(tempfile.mkdtemp(prefix="memos-stateful-"))
        self.clock = FakeClock()
        self.embedder = HashEmbedder(dim=32)
        self.counter = 0
        self._open()
        self.cube = self.mos.create_cube("state")
        self.model: dict[int, tuple[str, str]] = {}  # id -> (content, status)

    def _open(self) -> None:
        self.mos = memos.open(self.home, embedder=self.embedder, clock=self.clock)

    def teardown(self) -> None:
        self.mos.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def _unique(self, words: str) -> str:
        self.counter += 1
        return f"{words} {self.counter}"

    @rule(words=WORDS)
    def add(self, words: str) -> None:
        text = self._unique(words)
        item = self.cube.add(text)
        self.model[item.id] = (text, "activated")

    @precondition(lambda self: self._live())
    @rule(data=st.data(), words=WORDS)
    def update(self, data: st.DataObject, words: str) -> None:
        item_id = data.draw(st.sampled_from(self._live()))
        text = self._unique(words)
        self.cube.update(item_id, text)
        self.model[item_id] = (text, "activated")

    @precondition(lambda self: self._live())
    @rule(data=st.data(), hard=st.booleans())
    def forget(self, data: st.DataObject, hard: bool) -> None:
        item_id = data.draw(st.sampled_from(self._live()))
        self.cube.forget(item_id, hard=hard)
        self.model[item_id] = (self.model[item_id][0], "deleted")

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def archive(self, data: st.DataObject) -> None:
        item_id = data.draw(st.sampled_from(self._live()))
        self.cube.archive(item_id)
        self.model[item_id] = (self.model[item_id][0], "archived")

    @rule()
    def reopen(self) -> None:
        self.mos.close()
        self._open()
        self.cube = self.mos.cube("state")

    def _live(self) -> list[int]:
        return sorted(i for i, (_, status) in self.model.items() if status == "activated")

    @invariant()
    def sql_index_and_model_agree(self) -> None:
        index = self.mos.kernel.index_of(self.cube.info)
        index.catch_up()
        indexed = {i for i, (_, status) in self.model.items() if status != "deleted"}
        assert len(index) == len(indexed)
        for item_id in indexed:
            assert index.index.contains(item_id)
        for item_id, (text, status) in self.model.items():
            if status == "deleted":
                continue
            item = self.cube.get(item_id)
            assert (item.content, item.status.value) == (text, status)
        if self._live():
            probe = self._live()[-1]
            text = self.model[probe][0]
            vector = self.embedder.embed_queries([text])
            ids, _ = index.search(vector, 1)
            top = int(ids[0, 0])
            assert np.isclose(
                self.embedder.embed_documents([self.model[top][0]])[0] @ vector[0], 1.0, atol=1e-5
            )
            assert self.cube.search(text, k=1)[0].item.content == text


CubeMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
TestCubeMachine = CubeMachine.TestCase
