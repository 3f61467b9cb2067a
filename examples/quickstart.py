"""Remember, recall, revise and forget, on embedded defaults (SQLite + offline MiniLM).

Run: MEMOS_HOME=./memos-home python examples/quickstart.py
"""

from __future__ import annotations

import memos

with memos.open() as mos:
    print(f"memos home: {mos.home}")
    if any(c.name == "quickstart" for c in mos.cubes()):
        mos.drop_cube("quickstart")
    cube = mos.create_cube("quickstart")

    launch = cube.add(
        "The product launch is on March 3",
        type="fact",
        source="slack",
        source_ref="msg-17",
        tags=["launch"],
    )
    cube.add_many(
        [
            "Alice owns a golden retriever named Max",
            {"content": "Bob is allergic to peanuts", "type": "preference", "tags": ["food"]},
            {
                "content": "The team offsite happened in Porto",
                "type": "event",
                "valid_from": "2024-05-14",
            },
            {"content": "Wi-Fi guest password is tulip42", "ttl": "1d"},
        ]
    )

    for question in ("When do we ship?", "What pet does Alice have?", "What can't Bob eat?"):
        best = cube.search(question, k=1)[0]
        print(f"Q: {question}\n   -> {best.item.content}  (score {best.score:.2f})")

    before = launch.updated_at
    cube.update(launch.id, "The product launch moved to March 10")
    print("\nhistory of the launch memory:")
    for version in cube.history(launch.id):
        print(f"  v{version.version} [{version.operation}] {version.content}")
    print(f"as of {before:%H:%M:%S.%f}: {cube.get(launch.id, as_of=before).content}")
    print(f"now: {cube.get(launch.id).content}")

    offsite = cube.search("Where was the offsite?", k=1)[0].item
    cube.forget(offsite.id, hard=True)
    print(
        f"\nforgot #{offsite.id}; its text is purged from every version:",
        [v.content for v in cube.history(offsite.id)],
    )
    print("stats:", cube.stats())
