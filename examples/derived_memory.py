"""KV-cache and LoRA memory on the default runtime model (SmolLM2-135M-Instruct, CPU).

Run: MEMOS_HOME=./memos-home python examples/derived_memory.py
(the first run converts the model once, about half a minute; training takes a minute or two)
"""

from __future__ import annotations

import memos

with memos.open() as mos:
    if any(c.name == "derived-demo" for c in mos.cubes()):
        mos.drop_cube("derived-demo")  # also deletes its caches and adapters
    cube = mos.create_cube("derived-demo")
    ids = [
        cube.add(text).id
        for text in [
            "Mira Okafor lives in Tromsø.",
            "Mira Okafor's dog is called Pickle.",
            "Mira Okafor's birthday is on 14 March.",
        ]
    ]

    kv = cube.build_activation(ids)
    question = "What is the name of Mira Okafor's dog?"
    cached = cube.generate(question, activation=kv.id, max_new_tokens=24)
    recomputed = cube.generate(question, memories=ids, max_new_tokens=24)
    print(f"with the KV cache ({cached.ttft_s * 1000:.0f} ms to first token): {cached.text}")
    print(f"recomputed ({recomputed.ttft_s * 1000:.0f} ms to first token): same tokens "
          f"= {cached.tokens == recomputed.tokens}")  # fmt: skip

    lora = cube.distill(ids, steps=40)
    answer = cube.generate(question, adapters=[lora.id], max_new_tokens=24)
    print(f"with the adapter, no memories in the prompt: {answer.text}")
    print(cube.runtime.evaluate(lora.id))

    cube.forget(ids[1], hard=True)  # the cache and the adapter held that text: both deleted
    print("stale now:", cube.get(kv.id).stale, cube.get(lora.id).stale)
    cube.rebuild(kv.id)  # from the two remaining memories
