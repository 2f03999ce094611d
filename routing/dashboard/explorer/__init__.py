"""The operator pages beside the rule editor: overview, events (search, live tail, traces),
deliveries and dead letters, metrics, topology, archives and replays. See docs/dashboard.md."""
