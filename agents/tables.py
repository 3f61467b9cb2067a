"""Text tables in messages: a header line of `|`-separated column names, then one line per
row ("Caterer | Per head | Notes" / "Hearth & Vine Catering | $96 | plated"). A cell says
nothing without its row and column, so each row is unfolded into one sentence per cell
that names both ("Hearth & Vine Catering per head: $96."), which the reader reads as a
record field and the answerer matches by the column's words. A markdown separator line
("---|---") is dropped; a line whose cells do not match the header's count, and every
line outside a table, is kept as written.
"""

from __future__ import annotations

import re

_SEPARATOR = re.compile(r"^[\s|:\-]+$")
_EMPTY = frozenset(["", "-", "--", "n/a", "na", "none", "\u2014", "\u2013"])


def _cells(line: str) -> list[str] | None:
    """The cells of a table line (outer pipes optional), or None for a line with fewer
    than two cells."""
    if line.count("|") < 1:
        return None
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    cells = [cell.strip() for cell in body.split("|")]
    return cells if len(cells) >= 2 else None


def unfold_tables(text: str) -> str:
    """`text` with every table's rows unfolded into sentences (see the module doc)."""
    if "|" not in text:
        return text
    lines = [line for line in text.splitlines() if not (_SEPARATOR.match(line) and "|" in line)]
    out: list[str] = []
    header: list[str] | None = None
    for at, line in enumerate(lines):
        cells = _cells(line)
        if cells is None:
            header = None
            out.append(line)
            continue
        if header is None:
            following = _cells(lines[at + 1]) if at + 1 < len(lines) else None
            if following is not None and len(following) == len(cells):
                header = cells  # the column names, said again in every row's sentences
            else:
                out.append(line)  # "Anja Brunner | Biomedical Engineering": no table
            continue
        if len(cells) != len(header) or not cells[0]:
            header = None
            out.append(line)
            continue
        row = cells[0].rstrip(":")
        for name, cell in zip(header[1:], cells[1:], strict=True):
            if cell.lower() not in _EMPTY and name:
                out.append(f"{row} {name[0].lower() + name[1:]}: {cell.rstrip('.')}.")
    return "\n".join(out)
