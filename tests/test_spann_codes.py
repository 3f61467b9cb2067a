"""The posting codes: the fast-scan block layout agrees with faiss's own packer, the codec
agrees with faiss's PQ encoder under the same codebook, and the scanner ranks records as
their decoded codes do."""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np
import pytest

from memos.retrieval.spann.blocks import (
    BLOCK,
    below_masks,
    block_bytes,
    flat,
    pack,
    scatter,
    unpack,
)
from memos.retrieval.spann.codec import Codec
from memos.retrieval.spann.scanner import Scanner


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("subquantizers", [5, 8, 12, 192])
def test_blocks_match_faiss_packer(subquantizers: int) -> None:
    count = 70  # two full blocks and a partial one
    codes = np.random.default_rng(subquantizers).integers(0, 16, (count, subquantizers))
    codes = codes.astype(np.uint8)
    packed = pack(codes)
    quantizer = faiss.IndexFlatL2(2 * subquantizers)
    scratch: Any = faiss.IndexIVFPQFastScan(quantizer, 2 * subquantizers, 1, subquantizers, 4)
    lists: Any = faiss.downcast_InvertedLists(scratch.invlists)
    padded = np.zeros((3 * BLOCK, (subquantizers + 1) // 2), dtype=np.uint8)
    padded[:count] = flat(codes)
    expected = np.zeros((3, block_bytes(subquantizers)), dtype=np.uint8)
    for number in range(3):
        lists.packer.pack_all(
            faiss.swig_ptr(padded[BLOCK * number :]), faiss.swig_ptr(expected[number])
        )
    assert np.array_equal(packed, expected)
    assert np.array_equal(unpack(packed, count, subquantizers), codes)


@pytest.mark.parametrize(("kind", "dim"), [("pq2", 64), ("pq2", 15), ("pq4", 24)])
def test_codec_agrees_with_faiss_pq(kind: str, dim: int) -> None:
    vectors = unit(np.random.default_rng(dim).standard_normal((3000, dim)))
    codec = Codec(kind, dim, "ip")
    codec.train(vectors)
    codes = codec.encode(vectors)
    pq = faiss.ProductQuantizer(codec.code_dim, codec.subquantizers, 4)
    faiss.copy_array_to_vector(codec.codebook().ravel(), pq.centroids)
    padded = codec.pad_queries(vectors)
    # The same centroids, up to ties: a padded dimension repeats each level of the real
    # one, and faiss 1.15 breaks those ties otherwise than earlier releases did.
    theirs = pq.decode(pq.compute_codes(padded))
    assert np.array_equal(pq.decode(flat(codes)), theirs)
    decoded = codec.decode(codes)
    error = np.linalg.norm(decoded - vectors, axis=1).mean()
    assert error < (0.45 if kind == "pq2" else 0.15)
    # The state round trip keeps the levels and the measured errors.
    again = Codec(kind, dim, "ip", codec.state())
    assert np.array_equal(again.encode(vectors), codes)
    assert again.score_error == pytest.approx(codec.score_error)


def test_codec_notices_vectors_it_was_not_trained_for() -> None:
    dim = 24
    centre = unit(np.random.default_rng(1).standard_normal((2, dim)))
    noise = np.random.default_rng(2).standard_normal((400, dim)) * 0.05
    codec = Codec("pq4", dim, "ip")
    codec.train(unit(centre[0] + noise[:200]))
    before = codec.score_error
    like = unit(centre[0] + noise[200:])
    codec.observe(like, codec.encode(like))
    assert not codec.drifted
    other = unit(centre[1] + noise[200:])
    codec.observe(other, codec.encode(other))
    assert codec.drifted and codec.score_error > before


@pytest.mark.parametrize("metric", ["ip", "l2"])
def test_scanner_ranks_like_the_decoded_codes(metric: str) -> None:
    dim, capacity = 32, 96
    vectors = unit(np.random.default_rng(3).standard_normal((250, dim)))
    codec = Codec("pq4", dim, metric)
    codec.train(vectors)
    codes = codec.encode(vectors)
    postings = [codes[:90], codes[90:91], codes[91:250][:96]]
    scanner = Scanner(codec, capacity)
    views = scanner.buffers([len(p) for p in postings])
    for view, posting in zip(views, postings, strict=True):
        view[:] = pack(posting).reshape(-1)
    query = vectors[7]
    scores, positions = scanner.top(query, len(postings), 20)
    # Position j * capacity + i is record i of list j.
    starts = [0, 90, 91]
    rows = np.asarray([starts[p // capacity] + p % capacity for p in positions.tolist()])
    decoded = codec.decode(codes)
    truth = decoded @ query if metric == "ip" else -((decoded - query) ** 2).sum(axis=1)
    in_lists = np.concatenate([np.arange(0, 90), [90], np.arange(91, 187)])
    best = in_lists[np.argsort(-truth[in_lists], kind="stable")[:20]]
    # faiss quantises its lookup tables to 8 bits: the same records, nearly the same scores.
    assert len(set(rows.tolist()) & set(best.tolist())) >= 18
    assert np.allclose(scores, truth[rows], atol=0.05)


def test_below_masks_keep_exactly_the_first_codes() -> None:
    codes = np.random.default_rng(9).integers(0, 16, (32, 12)).astype(np.uint8)
    block = pack(codes)[0]
    for below in (0, 1, 17, 31, 32):
        kept = codes.copy()
        kept[below:] = 0
        assert np.array_equal(block & below_masks(12)[below], pack(kept)[0])


def test_scatter_writes_codes_where_pack_puts_them() -> None:
    codes = np.random.default_rng(10).integers(0, 16, (70, 192)).astype(np.uint8)
    blocks = np.zeros((3, block_bytes(192)), dtype=np.uint8)
    rows = np.random.default_rng(11).permutation(70)  # any order
    scatter(blocks, (rows // BLOCK).astype(np.intp), (rows % BLOCK).astype(np.intp), codes[rows])
    assert np.array_equal(blocks, pack(codes))
