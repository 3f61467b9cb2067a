"""Parametric memory benchmark: does a LoRA adapter distilled from personal facts make the
model know them, and what does it cost the model's general language?

A cube holds synthetic personal facts about invented people (sisters, cities, dogs,
birthdays). One adapter is distilled from all of them with the default settings (the
offline question templates; a seeded share held out). Then, for paraphrased questions the
training never saw ("In which city does X live?" where the templates ask "Where does X
live?"):

* perplexity of the true answers given the question, with and without the adapter,
* greedy answers: exact match (normalised) and contains-the-answer, with and without,

and perplexity of unrelated English prose with and without (catastrophic forgetting),
training time and adapter size. Targets: held-out answer perplexity at least 2x lower with
the adapter; unrelated-text perplexity within 10% of the base model.

    python bench/parametric.py [--people 8] [--steps N] [--learning-rate 1e-3] [--rank 8]
        [--anchor-weight 1.0] [--threads N] [--models-dir DIR] [--record docs/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

import memos
from memos.testing import HashEmbedder

SECTION = "Parametric memory (bench/parametric.py)"
INTRO = """What it measures: 8 invented people x 4 facts (sister, city, dog, birthday) = 32
facts in a cube; one LoRA adapter distilled from all of them with the defaults (rank 8,
the offline question templates, 20% of the question-answer pairs held out). Evaluation uses
paraphrased questions the templates never produce. *Answer perplexity* is the per-token
perplexity of the true answer given the question (chat-formatted, as `generate` renders
it); *exact match* compares the normalised greedy answer with the true one, *contains*
checks that the answer appears in it; *unrelated text* is general English prose. Model:
SmolLM2-135M-Instruct (float32) on the CPU. Targets: held-out answer perplexity at least 2x
lower with the adapter, unrelated-text perplexity within 10% of the base model."""

PEOPLE = [
    ("Zorvath Quenby", "Mirelle", "Tromsø", "Pickle", "14 March"),
    ("Ilsabet Marrowick", "Osric", "Valparaíso", "Biscuit", "2 October"),
    ("Tavi Okonkwo", "Ngozi", "Tartu", "Nimbus", "27 July"),
    ("Bramwell Sixsmith", "Henrike", "Hobart", "Wafer", "9 January"),
    ("Quilla Ferrant", "Dashiell", "Ghent", "Juniper", "30 May"),
    ("Anouk Vasquez-Holt", "Tereza", "Oaxaca", "Moss", "18 December"),
    ("Odalys Kettleby", "Casimir", "Kumasi", "Pepper", "5 April"),
    ("Fenwick Arundel", "Ysolde", "Bergen", "Crumpet", "23 August"),
]

UNRELATED = [
    "The river flows through the valley before it reaches the sea, and in spring the "
    "melting snow from the mountains raises its level by several metres.",
    "Bread is made by mixing flour, water, salt and yeast, letting the dough rise, and "
    "baking it in a hot oven until the crust turns golden brown.",
    "The committee met on Tuesday to discuss the budget for the new library, which will "
    "open next year with a larger reading room and a children's section.",
    "Photosynthesis allows plants to turn sunlight, water and carbon dioxide into sugar and "
    "oxygen, which is why forests are important for the air we breathe.",
    "During the nineteenth century, railways connected many cities for the first time, "
    "changing how people travelled, traded and thought about distance.",
    "To change a flat tyre, loosen the nuts, raise the car with a jack, replace the wheel "
    "and tighten the nuts again in a star pattern.",
    "The museum's new exhibition shows paintings from the early twentieth century, "
    "including several landscapes that have never been displayed before.",
    "Regular exercise, enough sleep and a balanced diet help people stay healthy and "
    "reduce the risk of many common illnesses.",
    "The orchestra tuned their instruments while the audience found their seats, and the "
    "conductor waited for silence before raising the baton.",
    "Software engineers write tests so that they can change code with confidence, knowing "
    "that a mistake will be caught before it reaches users.",
]


def facts(people: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Statements, and held-out paraphrased questions with their true answers."""
    statements, questions = [], []
    for name, sister, city, dog, birthday in PEOPLE[:people]:
        statements += [
            f"{name}'s sister is named {sister}.",
            f"{name} lives in {city}.",
            f"{name}'s dog is called {dog}.",
            f"{name}'s birthday is on {birthday}.",
        ]
        questions += [
            (f"What is the name of {name}'s sister?", sister),
            (f"In which city does {name} live?", city),
            (f"What name does {name}'s dog have?", dog),
            (f"On what date does {name} celebrate their birthday?", birthday),
        ]
    return statements, questions


def normalise(text: str) -> str:
    text = re.sub(r"[^\w\s]", " ", text.lower())
    text = re.sub(r"\b(the|a|an|is|named|called|on|in|it)\b", " ", text)
    return " ".join(text.split())


def answers(
    cube: memos.MemCube, questions: list[tuple[str, str]], adapters: list[int]
) -> dict[str, float]:
    exact, contains = 0, 0
    for question, answer in questions:
        text = cube.generate(question, adapters=adapters, max_new_tokens=16).text
        exact += normalise(text) == normalise(answer)
        contains += normalise(answer) in normalise(text)
    return {"exact": exact / len(questions), "contains": contains / len(questions)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=8, help="4 facts per person, at most 8")
    parser.add_argument("--steps", type=int, default=None, help="default: the SDK's")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--anchor-weight", type=float, default=1.0, help="KL anchor to the base (0: off)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--models-dir", type=Path, default=None, help="converted model cache")
    parser.add_argument("--record", type=Path, help="append the table to this Markdown file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    statements, questions = facts(args.people)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as home:
        settings = {} if args.models_dir is None else {"models_dir": args.models_dir}
        with memos.open(home, user="bench", embedder=HashEmbedder(dim=64), **settings) as mos:
            cube = mos.create_cube("people")
            ids = [item.id for item in cube.add_many(statements)]
            runtime = cube.runtime
            qs, gold = [q for q, _ in questions], [a for _, a in questions]
            base_ppl = runtime.perplexity(gold, prompts=qs)
            base_unrelated = runtime.perplexity(UNRELATED)
            base_answers = answers(cube, questions, [])
            started = time.perf_counter()
            lora = cube.distill(
                ids, rank=args.rank, steps=args.steps, seed=args.seed,
                learning_rate=args.learning_rate, anchor_weight=args.anchor_weight,
            )  # fmt: skip
            train_s = time.perf_counter() - started
            tuned_ppl = runtime.perplexity(gold, prompts=qs, adapters=[lora.id])
            tuned_unrelated = runtime.perplexity(UNRELATED, adapters=[lora.id])
            tuned_answers = answers(cube, questions, [lora.id])
            attrs = lora.attributes
            result = {
                "model": runtime.identity.model,
                "facts": len(statements),
                "questions": len(questions),
                "examples": attrs["examples"],
                "steps": attrs["steps"],
                "train_s": train_s,
                "bytes": lora.size_bytes,
                "heldout_loss": (attrs["heldout_loss_base"], attrs["heldout_loss"]),
                "loss": (statistics.fmean(attrs["loss_curve"][:5]), attrs["final_loss"]),
                "ppl": (base_ppl, tuned_ppl),
                "unrelated": (base_unrelated, tuned_unrelated),
                "answers": (base_answers, tuned_answers),
            }
    r = result
    ex = r["examples"]
    table = "\n".join(
        [
            f"Model {r['model']}, torch threads {torch.get_num_threads()}; {r['facts']} facts "
            f"-> {ex['train']} training examples ({ex['statements']} statements, {ex['qa']} "
            f"templated questions) and {ex['heldout']} held-out template questions; "
            f"{r['questions']} paraphrased evaluation questions. Rank {args.rank}, learning rate "
            f"{args.learning_rate}, {r['steps']} steps of 8, seed {args.seed}, anchor weight "
            f"{args.anchor_weight}.",
            "",
            "| measure | base model | with adapter | change |",
            "|---|---:|---:|---:|",
            f"| answer perplexity, paraphrased questions | {r['ppl'][0]:,.1f} | {r['ppl'][1]:,.2f} "
            f"| {r['ppl'][0] / r['ppl'][1]:.1f}x lower |",
            f"| exact match, greedy | {r['answers'][0]['exact']:.0%} | "
            f"{r['answers'][1]['exact']:.0%} | |",
            f"| contains the answer, greedy | {r['answers'][0]['contains']:.0%} | "
            f"{r['answers'][1]['contains']:.0%} | |",
            f"| unrelated-text perplexity | {r['unrelated'][0]:,.2f} | {r['unrelated'][1]:,.2f} "
            f"| {r['unrelated'][1] / r['unrelated'][0] - 1:+.1%} |",
            f"| held-out template-question loss | {r['heldout_loss'][0]:.3f} | "
            f"{r['heldout_loss'][1]:.3f} | |",
            f"| training loss, first 5 steps -> last | {r['loss'][0]:.3f} | {r['loss'][1]:.3f} | |",
            "",
            f"Training time {r['train_s']:,.0f} s on the CPU; adapter {r['bytes'] / 2**20:.2f} MiB "
            "(safetensors, float32).",
        ]
    )
    print(table)
    if args.record:
        from common import record  # bench/common.py

        record(
            args.record, "Parametric memory: personal facts", table, section=SECTION, intro=INTRO
        )


if __name__ == "__main__":
    main()
