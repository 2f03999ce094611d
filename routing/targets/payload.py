import json
from typing import Any


def parse_payload(payload: str) -> Any:
    """A payload that is JSON is handed over parsed; plain text (from a string template) as is."""
    try:
        return json.loads(payload)
    except ValueError:
        return payload
