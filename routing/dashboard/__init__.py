"""The operator dashboard (staff only): `rules/` (the rule editor, sandbox, impact preview,
revisions) and `explorer/` (overview, events and live tail, deliveries and dead letters,
metrics, topology, archives and replays)."""
