"""The rule editor (staff only): rules per bus, a pattern editor that validates as you type, a
sandbox, the impact of a change on recent events, targets with a preview of what each receives,
and every revision with a diff and a one-click restore."""
