"""EventBridge event patterns in pure Python: validation, matching and a rule index.

    >>> from routing.patterns import compile_pattern, RuleIndex
    >>> pattern = compile_pattern('{"source": ["coffee"], "price": [{"numeric": [">", 3]}]}')
    >>> pattern.matches({"source": "coffee", "price": 4.5})
    True
    >>> index = RuleIndex()
    >>> _ = index.add("big-orders", pattern)  # returns the compiled Pattern
    >>> index.match({"source": "coffee", "price": 4.5})
    {'big-orders'}

See docs/patterns.md for the semantics and for how the index works.
"""

from .compiler import MAX_OR_COMBINATIONS, MAX_PATTERN_LENGTH
from .errors import InvalidEventError, InvalidPatternError
from .index import RuleIndex
from .matcher import Pattern, compile_pattern, matches, parse_test_event, validate_pattern
from .values import FlatEvent, flatten_event
from .wildcard import MAX_WILDCARD_COMPLEXITY

__all__ = [
    "MAX_OR_COMBINATIONS",
    "MAX_PATTERN_LENGTH",
    "MAX_WILDCARD_COMPLEXITY",
    "FlatEvent",
    "InvalidEventError",
    "InvalidPatternError",
    "Pattern",
    "RuleIndex",
    "compile_pattern",
    "flatten_event",
    "matches",
    "parse_test_event",
    "validate_pattern",
]
