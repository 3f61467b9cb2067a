"""Many threads sharing one opened memos: more callers than pooled connections must all
finish, store every write once and find it."""

from __future__ import annotations

import threading
import traceback

import memos

# More threads than either engine pools connections (SQLite 12, PostgreSQL 15), so some
# always wait for one while others hold theirs.
THREADS = 32
ROUNDS = 6
# A liveness bound, not a speed check: a thread still running after this has deadlocked
# (before the fix every waiter sat out the pool's 30 s timeout and then failed).
JOIN_TIMEOUT_S = 240


def test_more_threads_than_connections_add_and_search_without_deadlock(
    cube: memos.MemCube,
) -> None:
    cube.add_many([f"seed note {n} about the quarterly budget" for n in range(50)])
    errors: list[str] = []
    added: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def client(position: int) -> None:
        try:
            start.wait()
            for round_ in range(ROUNDS):
                if (position + round_) % 2:
                    cube.search(f"budget note {position}", k=5)
                else:
                    item = cube.add(f"thread {position} round {round_} wrote about deploys")
                    with lock:
                        added.append(item.id)
        except Exception:  # collected and reported by the test, with the stack
            with lock:
                errors.append(traceback.format_exc())

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
    stuck = sum(thread.is_alive() for thread in threads)
    assert stuck == 0, f"{stuck} of {THREADS} threads never finished (deadlock)"
    assert not errors, errors[0]
    assert len(added) == len(set(added)) == THREADS * ROUNDS // 2
    assert cube.stats()["items"] == 50 + len(added)
    # The index took every write: each thread's own text finds its item first.
    item = cube.get(added[-1])
    # The access prior off: the threads' searches raised other items' counts.
    assert cube.search(item.content, k=1, weights={"access": 0})[0].item.id == item.id
