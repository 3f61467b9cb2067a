"""The scores, defined once (the README and docs/BENCHMARKS.md quote these definitions).

* `normalise`: lower case, Unicode NFKC, punctuation -> space, the articles a / an / the
  dropped, whitespace collapsed (the SQuAD convention).
* Correctness, `exact_match`: 1 when the normalised prediction equals the normalised form
  of any acceptable answer, else 0.
* `token_f1`: the best, over acceptable answers, of the harmonic mean of token precision
  and recall between the normalised prediction and answer (tokens split on whitespace,
  counted with multiplicity).
* `evidence_recall`: the share of a question's evidence event ids that are among the
  events the retrieved items came from (their provenance); None without evidence.
* `count_tokens`: words and punctuation marks (`\\w+` runs and single other non-space
  characters), a tokenizer-free stand-in for model tokens, used for every backend alike.
* Redundancy, `Redundancy.check`: a retrieved item is redundant when it duplicates an item
  ranked above it in the same retrieval or any item retrieved earlier for the same
  instance. Two texts duplicate each other when their normalised texts are equal or the
  Jaccard similarity of their normalised word sets is at least `threshold` (0.8).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

DUPLICATE_THRESHOLD = 0.8
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
# ASCII punctuation plus typographic quotes, dashes and the ellipsis.
_PUNCTUATION = re.compile(
    f"[{re.escape(string.punctuation)}\u2018\u2019\u201c\u201d\u2013\u2014\u2026]"
)
_TOKEN = re.compile(r"\w+|[^\w\s]")


def normalise(text: str) -> str:
    """Answer text as compared (see the module doc)."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_ARTICLES.sub(" ", _PUNCTUATION.sub(" ", lowered)).split())


def exact_match(predicted: str, answers: Sequence[str]) -> float:
    """1.0 when the prediction equals an acceptable answer after `normalise`, else 0.0."""
    mine = normalise(predicted)
    return float(any(mine == normalise(a) for a in answers))


def token_f1(predicted: str, answers: Sequence[str]) -> float:
    """The best token F1 of the prediction against any acceptable answer."""
    mine = normalise(predicted).split()
    best = 0.0
    for answer in answers:
        gold = normalise(answer).split()
        if not mine or not gold:
            best = max(best, float(mine == gold))
            continue
        common = sum((Counter(mine) & Counter(gold)).values())
        if common:
            precision, recall = common / len(mine), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def evidence_recall(evidence: Sequence[str], provenance: Iterable[Iterable[str]]) -> float | None:
    """Share of evidence ids found in the retrieved items' provenance; None without any."""
    wanted = set(evidence)
    if not wanted:
        return None
    found: set[str] = set()
    for refs in provenance:
        found.update(refs)
    return len(wanted & found) / len(wanted)


def count_tokens(text: str) -> int:
    """Words and punctuation marks in `text` (see the module doc)."""
    return len(_TOKEN.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class Redundancy:
    """Remembers what one instance's retrievals returned, and says which new items repeat
    it (see the module doc). One tracker per instance and backend."""

    def __init__(self, threshold: float = DUPLICATE_THRESHOLD) -> None:
        if not 0 < threshold <= 1:
            raise ValueError("the duplicate threshold is a Jaccard similarity in (0, 1]")
        self.threshold = threshold
        self._texts: set[str] = set()
        self._shapes: list[frozenset[str]] = []

    def _duplicate(self, normal: str, words: frozenset[str]) -> bool:
        if normal in self._texts:
            return True
        size = len(words)
        for other in self._shapes:
            # Jaccard >= t needs the smaller set to be at least t times the larger one.
            low, high = sorted((size, len(other)))
            if high and low < self.threshold * high:
                continue
            if jaccard(words, other) >= self.threshold:
                return True
        return False

    def check(self, texts: Sequence[str]) -> list[bool]:
        """For each text of one retrieval, in rank order: is it redundant? All of them
        are remembered for later retrievals."""
        flags: list[bool] = []
        for text in texts:
            normal = normalise(text)
            words = frozenset(normal.split())
            duplicate = self._duplicate(normal, words)
            flags.append(duplicate)
            if normal not in self._texts:  # near-duplicates stay: chains of them count
                self._texts.add(normal)
                self._shapes.append(words)
        return flags
