"""Activation memory: KV caches of the runtime model over prefixes built from plaintext
memories, stored as content-addressed artifacts and kept close to the model in tiers."""
