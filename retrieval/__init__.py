"""memos package."""
