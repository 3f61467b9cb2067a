"""The runtime model behind activation (KV cache) and parametric (LoRA) memory.

Import-light on purpose: torch and transformers load only when a model is first used.
`memos.runtime.model.Runtime` is the model; `memos.runtime.parts.RuntimeParts` holds it
with the artifact stores, the KV tiers and the loaded adapters of one opened memos.
"""
