"""Schedule expressions in words, for people: `cron(0 8 ? * MON-FRI *)` → "every weekday at
08:00 UTC", `rate(5 minutes)` → "every 5 minutes". Pure Python, no Django.

The common shapes read as a sentence; anything rarer still reads field by field ("minutes 5,7;
hours 1-3; …"), never wrongly. Expressions are parsed (validated) first, so the fields here are
known to be well formed.
"""

from __future__ import annotations

from routing.schedules.expressions import At, Cron, Expression, Rate, parse_expression

_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DAY_ABBREVIATIONS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")
_MONTH_ABBREVIATIONS = tuple(name[:3].upper() for name in _MONTH_NAMES)
_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def describe_expression(expression: str | Expression, tz: str = "UTC") -> str:
    """The expression in words. Raises InvalidScheduleExpression as parsing does."""
    parsed = parse_expression(expression, allow_at=True) if isinstance(expression, str) \
        else expression
    if isinstance(parsed, Rate):
        unit = parsed.unit[:-1]
        return f"every {unit}" if parsed.value == 1 else f"every {parsed.value} {parsed.unit}"
    if isinstance(parsed, At):
        return f"once, on {parsed.when:%Y-%m-%d} at {parsed.when:%H:%M:%S} {tz}"
    return _cron(parsed, tz)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _number(token: str, names: tuple[str, ...] = (), low: int = 0) -> int | None:
    if token.isdigit():
        return int(token)
    if token.upper() in names:
        return names.index(token.upper()) + low
    return None


def _values(text: str, names: tuple[str, ...] = (), low: int = 0) -> list[int] | None:
    """A plain list of single values ("1,15", "MON,WED"), or None for anything else."""
    values = [_number(token, names, low) for token in text.split(",")]
    return None if any(value is None for value in values) else values  # type: ignore[return-value]


def _range(text: str, names: tuple[str, ...] = (), low: int = 0) -> tuple[int, int] | None:
    first, dash, last = text.partition("-")
    if not dash or "/" in text or "," in text:
        return None
    a, b = _number(first, names, low), _number(last, names, low)
    return None if a is None or b is None else (a, b)


def _step(text: str) -> tuple[int, int] | None:
    """`*/n` or `a/n` → (start, n)."""
    base, slash, step = text.partition("/")
    if not slash or not step.isdigit():
        return None
    if base == "*":
        return 0, int(step)
    return (int(base), int(step)) if base.isdigit() else None


def _clock(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


def _ordinal_day(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _days_of_week(text: str) -> str | None:
    upper = text.upper()
    if upper == "L":
        return "every Saturday"
    if upper.endswith("L"):
        day = _number(upper[:-1], _DAY_ABBREVIATIONS, 1)
        return f"on the last {_DAY_NAMES[day - 1]} of the month" if day else None
    if "#" in upper:
        day_text, _, nth = upper.partition("#")
        day = _number(day_text, _DAY_ABBREVIATIONS, 1)
        if day is None:
            return None
        return f"on the {_ORDINALS[int(nth) - 1]} {_DAY_NAMES[day - 1]} of the month"
    days = _values(upper, _DAY_ABBREVIATIONS, 1)
    span = _range(upper, _DAY_ABBREVIATIONS, 1)
    if span is not None and span[0] <= span[1]:
        days = list(range(span[0], span[1] + 1))
    if days is None:
        return None
    chosen = sorted(set(days))
    if chosen == [2, 3, 4, 5, 6]:
        return "every weekday"
    if chosen == [1, 7]:
        return "every Saturday and Sunday"
    if chosen == list(range(1, 8)):
        return "every day"
    return "every " + _join([_DAY_NAMES[day - 1] for day in chosen])


def _days_of_month(text: str) -> str | None:
    upper = text.upper()
    if upper == "L":
        return "on the last day of the month"
    if upper.endswith("W"):
        return f"on the weekday nearest the {_ordinal_day(int(upper[:-1]))} of the month"
    days = _values(upper)
    if days is not None:
        return "on the " + _join([_ordinal_day(day) for day in days]) + " of the month"
    span = _range(upper)
    if span is not None:
        return f"on the {_ordinal_day(span[0])} to the {_ordinal_day(span[1])} of the month"
    return None


def _days(dom: str, dow: str) -> str | None:
    if (dom == "?" and dow == "*") or (dom == "*" and dow == "?"):
        return "every day"
    return _days_of_week(dow) if dom == "?" else _days_of_month(dom)


def _months(text: str) -> str | None:
    if text == "*":
        return ""
    months = _values(text, _MONTH_ABBREVIATIONS, 1)
    if months is not None:
        return "in " + _join([_MONTH_NAMES[month - 1] for month in months])
    span = _range(text, _MONTH_ABBREVIATIONS, 1)
    if span is not None:
        return f"from {_MONTH_NAMES[span[0] - 1]} to {_MONTH_NAMES[span[1] - 1]}"
    return None


def _years(text: str) -> str | None:
    if text == "*":
        return ""
    years = _values(text)
    if years is not None:
        return "in " + _join([str(year) for year in years])
    span = _range(text)
    if span is not None:
        return f"from {span[0]} to {span[1]}"
    return None


def _times(minutes: str, hours: str, tz: str) -> tuple[str, bool] | None:
    """The time of day, and whether it is a fixed list of times ("at 08:00") rather than a
    repetition ("every 5 minutes")."""
    minute_values, hour_values = _values(minutes), _values(hours)
    if minute_values is not None and hour_values is not None:
        times = [_clock(h, m) for h in sorted(hour_values) for m in sorted(minute_values)]
        if len(times) <= 6:
            return f"at {_join(times)} {tz}", True
    hour_range = _range(hours)
    hour_step = _step(hours)
    if hours == "*":
        within = ""
    elif hour_range is not None:
        within = f" from {_clock(hour_range[0], 0)} to {_clock(hour_range[1], 59)} {tz}"
    elif hour_values is not None:
        within = " during the hours starting " + _join(
            [_clock(hour, 0) for hour in sorted(hour_values)]) + f" {tz}"
    else:
        within = None
    if minutes == "*":
        every = "every minute"
    elif (step := _step(minutes)) is not None:
        every = f"every {step[1]} minutes" if step[1] != 1 else "every minute"
        if step[0]:
            every += f" from minute {step[0]}"
    elif minute_values == [0] and within is not None:
        every = "every hour"
    elif minute_values is not None and within is not None:
        every = "every hour at minute " + _join([str(m) for m in minute_values])
    else:
        every = None
    if every is not None and within is not None:
        return every + within, False
    if minute_values is not None and len(minute_values) == 1 and hour_step is not None:
        start, step_hours = hour_step
        return (f"every {step_hours} hours at minute {minute_values[0]}, from "
                f"{_clock(start, minute_values[0])} {tz}"), False
    return None


def _cron(cron: Cron, tz: str) -> str:
    minutes, hours, dom, month, dow, year = cron.text.split(" ")
    times, days = _times(minutes, hours, tz), _days(dom, dow)
    months, years = _months(month), _years(year)
    if times is None or days is None or months is None or years is None:
        return (f"minutes {minutes}; hours {hours}; day-of-month {dom}; month {month}; "
                f"day-of-week {dow}; year {year} ({tz})")
    time_text, fixed = times
    if fixed:
        sentence = f"{days} {time_text}"
    else:
        sentence = time_text if days == "every day" else f"{time_text}, {days}"
    tail = ", ".join(part for part in (months, years) if part)
    return f"{sentence}, {tail}" if tail else sentence
