"""`memos serve`: the SDK's operations over REST and MCP, with API-key authentication.

`memos.server.app.create_app(mos)` builds the ASGI app (FastAPI routes under `/v1`, MCP
streamable HTTP at `/mcp`, `/healthz`, `/metrics`); `memos.server.run` serves it with
uvicorn or MCP over stdio. Importing this package loads nothing heavy: the CLI reads
`memos.server.local` (the `serve.json` of a running server) without FastAPI.
"""
