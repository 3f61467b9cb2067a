"""Parametric memory: LoRA adapters (peft) distilled from plaintext memories, stored as
content-addressed artifacts and loaded, stacked, unloaded or merged on the runtime model."""
