"""One module per target kind (handler, webhook, channels, bus); `registry.send_to_target`
picks the right one."""
