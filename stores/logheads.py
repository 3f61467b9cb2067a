"""Sealing the operation log: each cube's entries get their places in commit order.

The vector index of every host replays a cube's log past the last place it applied. With
places handed out as rows are inserted (a database sequence), a writer that took place 7
and commits after another writer's place 8 is visible could be skipped for good. So
entries are inserted without a place and sealed here, as the last step of the writing
transaction: each cube's head row is advanced under its row lock, held until commit, so
places become visible in order. Later steps never take other locks, so no deadlock.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from memos.stores.schema import log_heads
from memos.stores.schema import oplog as oplog_table


def seal_log(conn: Connection) -> None:
    """Give this transaction's new log entries their places (runs last in every write
    transaction: stores/engine.py `before_commit`). Rows without a place that this
    transaction can see are its own: others' uncommitted rows are invisible, committed
    ones are sealed."""
    rows = conn.execute(
        select(oplog_table.c.seq, oplog_table.c.cube_id)
        .where(oplog_table.c.cube_seq.is_(None))
        .order_by(oplog_table.c.seq)
    ).all()
    if not rows:
        return
    by_cube: dict[int, list[int]] = {}
    for seq, cube_id in rows:
        by_cube.setdefault(int(cube_id), []).append(int(seq))
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    for cube_id in sorted(by_cube):  # one lock order for every writer: no deadlocks
        seqs = by_cube[cube_id]
        insert = upsert(log_heads).values(cube_id=cube_id, seq=len(seqs))
        advance = insert.on_conflict_do_update(
            index_elements=[log_heads.c.cube_id], set_={"seq": log_heads.c.seq + len(seqs)}
        ).returning(log_heads.c.seq)
        top = int(conn.execute(advance).scalar_one())
        first = top - len(seqs) + 1
        conn.execute(
            update(oplog_table)
            .where(oplog_table.c.seq == bindparam("row"))
            .values(cube_seq=bindparam("place")),
            [{"row": seq, "place": first + n} for n, seq in enumerate(seqs)],
        )
