"""Words that look like a name or a subject at the start of a phrase but never are one:
pronouns, determiners, days, months, greetings. The reader's patterns share this list and
add their own exceptions."""

from __future__ import annotations

NOT_NAMES = frozenset(
    [
        "a", "an", "and", "april", "august", "but", "december", "february", "final",
        "friday", "fyi", "good", "great", "he", "hello", "her", "here", "hey", "hi", "his",
        "i", "if", "it", "its", "january", "july", "june", "march", "may", "monday", "my",
        "new", "november", "october", "ok", "okay", "our", "please", "re", "saturday",
        "september", "she", "so", "sorry", "sunday", "thanks", "that", "the", "their",
        "there", "they", "this", "thursday", "today", "tomorrow", "tuesday", "update", "we",
        "wednesday", "you", "your"
    ]
)  # fmt: skip
