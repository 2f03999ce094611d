"""The bus's HTTP API: PutEvents, TestEventPattern, event traces and redrive, as JSON.

See docs/api.md for how to call it and routing/api/openapi.json for its description."""
