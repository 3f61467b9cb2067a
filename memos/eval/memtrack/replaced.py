"""The value a named one replaced, read from text: "Which apartment had they applied for
before Belgradstraße 17?".

A "before X" question presupposes X came later. When no recalled keyed state answers it,
the answer is a value *written like X* in a recalled sentence: an address like an address
("Hohenzollernstraße 42"), a room like a room ("Op 3" for "Op 4"), a date like a date. X's
shape is its words' classes (a capitalised word, a number, a lower-case word as itself);
a shape of one bare capitalised word says too little and is not used. Of the spans of that
shape other than X, the one whose sentence shares most of the question's words answers,
then the latest said.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from memos.agents.tables import unfold_tables
from memos.eval.memtrack.backends import Retrieved
from memos.eval.memtrack.metrics import normalise
from memos.eval.memtrack.states import SENTENCE, content_stems, read_question, recalled_text

_TOKEN = re.compile(r"\d[\d,.]*\d|\d|[\w\u00C0-\u017F'\u2019-]+|[^\w\s]")
_CAPITAL = r"[A-Z\u00C0-\u00DE][\w\u00C0-\u017F'\u2019-]*"
_ARTICLE = re.compile(r"(?i)^(?:the|a|an|our|their|his|her|its)\s+")
_EDGE = r"(?<![\w\u00C0-\u017F])", r"(?![\w\u00C0-\u017F])"


def shape_of(value: str) -> re.Pattern[str] | None:
    """A pattern matching values written like `value` ("Op 4": a capitalised word and a
    number; "Rev D"; "$3,200"), or None when its shape is too loose to tell a value from
    any capitalised word."""
    tokens = _TOKEN.findall(_ARTICLE.sub("", value.strip()))
    if not tokens or len(tokens) > 6:
        return None
    pattern = ""
    numbered = capitals = 0
    for i, token in enumerate(tokens):
        word = token[:1].isalnum()
        if token[:1].isdigit():
            # Written the same way: "2.1" like "2.0", not like the "1" of "amendment 1".
            part, numbered = re.sub(r"\d+", lambda _: r"\d+", re.escape(token)), numbered + 1
        elif len(token) == 1 and token.isupper():
            part, capitals = r"[A-Z]", capitals + 1
        elif token[:1].isupper():
            part, capitals = _CAPITAL, capitals + 1
        else:
            part = re.escape(token)
        if i:
            previous_word = tokens[i - 1][:1].isalnum()
            pattern += r"\s+" if word and previous_word else r"\s*"
        pattern += part
    if not numbered and capitals < 2:
        return None
    if len(tokens) == 1 and tokens[0].isdigit():
        return None  # a bare number: any count, any id
    return re.compile(_EDGE[0] + pattern + _EDGE[1])


def replaced_value(question: str, items: Sequence[Retrieved]) -> str | None:
    """The value the question's named one replaced, from recalled text (module doc)."""
    asked = read_question(question, None)
    if not asked.before or not asked.named or asked.who:
        return None  # who held a role before someone is for the answerer's people rules
    named = _ARTICLE.sub("", asked.named.strip())
    shape = shape_of(named)
    if shape is None:
        return None
    words = asked.words - content_stems(named)
    numbered = any(ch.isdigit() for ch in named)
    best: tuple[tuple[int, datetime, int], str] | None = None
    for rank, item in enumerate(items):
        when = item.timestamp or datetime.min.replace(tzinfo=UTC)
        for sentence in SENTENCE.split(unfold_tables(recalled_text(item))):
            stems = content_stems(sentence)
            for found in shape.finditer(sentence):
                text = found.group(0)
                if normalise(text) == normalise(named):
                    continue
                if not numbered and not sentence[: found.start()].strip():
                    continue  # a sentence's first words are capitalised anyway
                key = (len(words & (stems - content_stems(text))), when, -rank)
                if best is None or key > best[0]:
                    best = (key, text)
    if best is None or best[0][0] == 0:
        return None  # nothing said about what the question asks
    return best[1]
