"""Offline note construction: keyphrases, tags and a one-sentence context, with no LLM.

Keyphrases are RAKE-style: runs of up to two content words between stopwords and
punctuation. A word scores its frequency in the text, plus one when nearby notes use it
too (it is on topic), plus one when it is written as a name mid-sentence. A phrase scores
the sum of its words; phrases contained in a better one are dropped.

Tags come from the vocabulary the cube already uses (so notes converge on shared labels
instead of inventing synonyms): a tag applies when all of its words occur in the note.
When none applies, the note's best single word starts a new tag.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from memos.text import STOPWORDS

# Conversation filler: frequent in chat turns, never what a turn is about.
_FILLER_WORDS = """
    yeah yes yep wow oh ok okay hey hi hello thanks thank really great good nice cool
    awesome amazing glad sure well also like just get got gets getting know think thought
    lot lots things thing much many way always never even still actually definitely maybe
    something anything everything someone anyone one ones make makes made making going
    want wanted let lets say said tell told see seen look looks looking feel feels felt
    time times day days today lately recently right kind sort bit pretty totally super
    absolutely sounds sound love loved awesome stuff able keep kept take took new every
    ll ve re d m im didn doesn isn wasn aren weren won wouldn couldn shouldn
    go goes went gone come comes came moved move moving need needs needed use used using
    try tried trying find found put gave give given done saw heard met left start started
    help helped helps mean means meant seem seems seemed happen happened became become
    yesterday tomorrow tonight week weeks weekend month months year years ago last next
    soon morning night evening ever lol haha live lives living lived ask asks asked
    buy bought run runs ran ride rides rode meet meets work works worked
"""
FILLER = frozenset(_FILLER_WORDS.split())
IGNORED = STOPWORDS | FILLER
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]|\d{2,}")
_SENTENCE_GAP = re.compile(r"[.!?\n]")
_SPLIT = re.compile(r"[.,;:!?()\[\]{}\"\u201c\u201d\u2026]|\s[-\u2013\u2014]\s|\n")
MAX_PHRASE_WORDS = 2


def stem(word: str) -> str:
    """A light suffix-stripping stem, enough to match 'painting' with 'paintings'."""
    word = word.lower().strip("'-")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                continue
            return word[: -len(suffix)] + keep
    return word


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters with inner apostrophes or hyphens, or numbers)."""
    return [t.lower() for t in _TOKEN.findall(text)]


def content_stems(text: str) -> set[str]:
    """Stems of the content words of a text (stopwords and filler left out)."""
    return {stem(w) for w in words(text) if _is_content(w)}


def _is_content(word: str) -> bool:
    bare = word.lower().strip("'-")
    if bare.endswith("'s"):
        bare = bare[:-2]
    if bare.isdigit():
        return 2 <= len(bare) <= 8
    # Very long tokens are identifiers or run-together junk, not keywords.
    return 3 <= len(bare) <= 30 and bare not in IGNORED and stem(bare) not in IGNORED


def _phrases(text: str) -> list[list[tuple[str, bool]]]:
    """Runs of content words; each word with whether it is written as a name (capitalised
    but not first in its sentence)."""
    runs: list[list[tuple[str, bool]]] = []
    run: list[tuple[str, bool]] = []
    previous_end = 0
    sentence_start = True
    for match in _TOKEN.finditer(text):
        gap = text[previous_end : match.start()]
        previous_end = match.end()
        if _SPLIT.search(gap) and run:
            runs.append(run)
            run = []
        if _SENTENCE_GAP.search(gap):
            sentence_start = True
        token = match.group(0)
        if _is_content(token):
            run.append((token, token[0].isupper() and not sentence_start))
            if len(run) == MAX_PHRASE_WORDS:
                runs.append(run)
                run = []
        elif run:
            runs.append(run)
            run = []
        sentence_start = False
    if run:
        runs.append(run)
    return runs


def keyphrases(text: str, *, nearby: Sequence[str] = (), limit: int = 6) -> list[str]:
    """The best `limit` keyphrases of `text`, best first; `nearby` texts (e.g. its
    nearest neighbours) mark which words are on topic."""
    runs = _phrases(text)
    frequency = Counter(stem(w) for run in runs for w, _ in run)
    topical: set[str] = set()
    for other in nearby:
        topical |= content_stems(other)
    names = {stem(w) for run in runs for w, is_name in run if is_name}

    def score(word: str) -> float:
        key = stem(word)
        return frequency[key] + (key in topical) + (key in names)

    def written(word: str, run: list[tuple[str, bool]]) -> str:
        # Names and acronyms keep their case, so does a capitalised word next to a name
        # ("Tomas Berg" at the start of a sentence).
        capital = word[0].isupper()
        keep = (capital and any(stem(w) in names for w, _ in run)) or (
            word.isupper() and len(word) > 1
        )
        return word if keep else word.lower()

    best: dict[str, tuple[float, str, frozenset[str]]] = {}
    for run in runs:
        surface = " ".join(written(w, run) for w, _ in run)
        value = float(sum(score(w) for w, _ in run))
        if surface.lower() not in best or best[surface.lower()][0] < value:
            best[surface.lower()] = (value, surface, frozenset(stem(w) for w, _ in run))
    chosen: list[tuple[str, frozenset[str]]] = []
    for _, surface, keys in sorted(best.values(), key=lambda e: (-e[0], e[1].lower())):
        if any(keys <= taken for _, taken in chosen):
            continue
        chosen.append((surface, keys))
        if len(chosen) == limit:
            break
    return [surface for surface, _ in chosen]


def choose_tags(
    text: str,
    keywords: Sequence[str],
    vocabulary: Mapping[str, int],
    *,
    limit: int = 4,
) -> list[str]:
    """Tags for a note: vocabulary tags whose words all occur in it (most used first);
    else its best single keyword as a new tag."""
    present = content_stems(text) | {stem(w) for k in keywords for w in words(k)}
    fitting = []
    for tag, count in vocabulary.items():
        parts = [stem(w) for w in words(tag.replace("-", " ").replace("_", " "))]
        if parts and all(p in present for p in parts):
            fitting.append((-count, tag))
    chosen = [tag for _, tag in sorted(fitting)[:limit]]
    if chosen:
        return chosen
    for keyword in keywords:
        single = [w for w in words(keyword) if _is_content(w) and not w.isdigit()]
        if single:
            return [single[-1].lower()]
    return []


def describe(
    keywords: Sequence[str], *, author: str | None = None, nearby_topics: Iterable[str] = ()
) -> str:
    """A one-sentence context: who, about what, and which earlier topics it sits among."""
    subject = f"{author} on" if author else "A note on"
    about = _series(list(keywords[:3])) if keywords else "a brief remark"
    topics = [t for t in dict.fromkeys(nearby_topics) if t.lower() not in
              {k.lower() for k in keywords}][:2]  # fmt: skip
    tail = f", among notes about {_series(topics)}" if topics else ""
    return f"{subject} {about}{tail}."


def _series(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def shared_words(a: Iterable[str], b: Iterable[str]) -> list[str]:
    """Content words of `a` whose stems also occur in `b` (one word per stem, in order)."""
    right = {stem(w) for phrase in b for w in words(phrase) if _is_content(w)}
    found: dict[str, str] = {}
    for phrase in a:
        for word in words(phrase):
            if _is_content(word) and stem(word) in right:
                found.setdefault(stem(word), word)
    return list(found.values())
