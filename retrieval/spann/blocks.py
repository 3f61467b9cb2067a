"""faiss's fast-scan block layout: 32 vectors' 4-bit codes interleaved so that one SIMD
shuffle scores a whole block. Postings store their codes in this layout, so search reads
them straight into the scanner's lists with no repacking.

The layout is not a public faiss format, so it is learnt once from faiss's own code packer
(a few `pack_all` calls with known values) rather than copied here; packing and unpacking
many blocks at once are then two numpy gathers.
"""

from __future__ import annotations

import functools
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

BLOCK = 32  # vectors per block (faiss's bbs)
SubCodes = npt.NDArray[np.uint8]  # (n, subquantizers) values 0..15
Blocks = npt.NDArray[np.uint8]  # (blocks, block bytes)


@functools.cache
def _layout(pairs: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """For `2 * pairs` subquantizers: which (vector, subquantizer) each nibble of a block
    holds, as flat indexes into a (32, 2 * pairs) array, and the inverse permutation."""
    width = 2 * pairs
    quantizer = faiss.IndexFlatL2(width)
    scratch: Any = faiss.IndexIVFPQFastScan(quantizer, width, 1, width, 4)
    lists: Any = faiss.downcast_InvertedLists(scratch.invlists)
    packer = lists.packer
    row = np.arange(BLOCK)[:, None].repeat(width, axis=1)
    column = np.arange(width)[None, :].repeat(BLOCK, axis=0)
    # Each pass tags every code with 4 bits of its row or column; together they name it.
    passes = [row & 15, row >> 4, *[(column >> shift) & 15 for shift in (0, 4, 8, 12)]]
    seen = []
    for tags in passes:
        flat = np.ascontiguousarray((tags[:, 0::2] | (tags[:, 1::2] << 4)).astype(np.uint8))
        block = np.zeros(BLOCK * pairs, dtype=np.uint8)
        packer.pack_all(faiss.swig_ptr(flat), faiss.swig_ptr(block))
        seen.append(np.stack([block & 15, block >> 4], axis=1).reshape(-1).astype(np.intp))
    rows = seen[0] | (seen[1] << 4)
    columns = seen[2] | (seen[3] << 4) | (seen[4] << 8) | (seen[5] << 12)
    source = rows * width + columns
    if len(np.unique(source)) != BLOCK * width:
        raise RuntimeError("unexpected faiss fast-scan block layout")
    inverse = np.empty_like(source)
    inverse[source] = np.arange(len(source))
    return source, inverse


def block_bytes(subquantizers: int) -> int:
    return BLOCK * ((subquantizers + 1) // 2)


def blocks_for(count: int) -> int:
    return -(-count // BLOCK)


def _padded(codes: SubCodes, count: int) -> SubCodes:
    """Codes as whole blocks of an even number of columns, zero-filled."""
    width = codes.shape[1] + codes.shape[1] % 2
    out = np.zeros((blocks_for(count) * BLOCK, width), dtype=np.uint8)
    out[: len(codes), : codes.shape[1]] = codes
    return out


def pack(codes: SubCodes) -> Blocks:
    """Codes of vectors 0..n-1 (row order) as ceil(n / 32) blocks."""
    count, subquantizers = codes.shape
    if count == 0:
        return np.zeros((0, block_bytes(subquantizers)), dtype=np.uint8)
    source, _ = _layout((subquantizers + 1) // 2)
    grid = _padded(codes, count).reshape(blocks_for(count), -1)
    nibbles = grid[:, source]
    return np.ascontiguousarray(nibbles[:, 0::2] | (nibbles[:, 1::2] << 4))


@functools.cache
def _places(subquantizers: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.uint8]]:
    """For a vector at position q of a block: the byte and the shift (0 or 4) of each of
    its codes, (32, subquantizers) each."""
    pairs = (subquantizers + 1) // 2
    _, inverse = _layout(pairs)
    nibble = inverse.reshape(BLOCK, 2 * pairs)[:, :subquantizers]
    return nibble // 2, (4 * (nibble % 2)).astype(np.uint8)


def scatter(blocks: Blocks, block: npt.NDArray[np.intp], position: npt.NDArray[np.intp],
            codes: SubCodes) -> None:  # fmt: skip
    """Write codes[i] at `position[i]` of blocks[block[i]], whose nibbles there are zero:
    cheaper than packing whole blocks when each gets only a few vectors (an append)."""
    byte, shift = _places(codes.shape[1])
    where = block[:, None] * blocks.shape[1] + byte[position]
    values = codes << shift[position]
    flat_blocks = blocks.reshape(-1)
    # A byte holds two vectors' codes, one per nibble: the low nibbles first, then the high
    # ones, so that no byte is written twice by one fancy-indexed update.
    for half in (0, 4):
        mine = shift[position] == half
        flat_blocks[where[mine]] |= values[mine]


@functools.cache
def below_masks(subquantizers: int) -> Blocks:
    """masks[p]: the bits of a block that hold the codes of its vectors 0..p-1 (p = 0..32)."""
    pairs = (subquantizers + 1) // 2
    source, _ = _layout(pairs)
    vector = (source // (2 * pairs)).reshape(-1, 2)  # per byte: low nibble's, high nibble's
    masks = np.zeros((BLOCK + 1, BLOCK * pairs), dtype=np.uint8)
    for below in range(BLOCK + 1):
        masks[below] = np.where(vector[:, 0] < below, 0x0F, 0) | np.where(
            vector[:, 1] < below, 0xF0, 0
        )
    return masks


def unpack(blocks: Blocks, count: int, subquantizers: int) -> SubCodes:
    """The first `count` vectors' codes from blocks."""
    if count == 0:
        return np.zeros((0, subquantizers), dtype=np.uint8)
    _, inverse = _layout((subquantizers + 1) // 2)
    used = blocks[: blocks_for(count)]
    nibbles = np.stack([used & 15, used >> 4], axis=2).reshape(len(used), -1)
    grid = nibbles[:, inverse].reshape(-1, subquantizers + subquantizers % 2)
    return np.ascontiguousarray(grid[:count, :subquantizers])


def flat(codes: SubCodes) -> npt.NDArray[np.uint8]:
    """Codes in faiss's flat PQ byte order (two per byte, low nibble first): the canonical
    bytes that posting checksums cover, independent of where a code sits in its block."""
    padded = codes if codes.shape[1] % 2 == 0 else np.pad(codes, ((0, 0), (0, 1)))
    return np.ascontiguousarray(padded[:, 0::2] | (padded[:, 1::2] << 4))
