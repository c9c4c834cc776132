# timespec.py - reads the times users give to --from/--to: an offset from the start or a clock time.
"""parse(text, start_unix_ns) -> unix time in ns.

Accepted forms:
  seconds from the profile's start   "90", "1.5", "90s", "2m", "1h", "1h30m", "250ms"
  an ISO date-time                   "2026-11-25T01:30:00", "2026-11-25 01:30:00.5",
                                     "2026-11-25T01:30:00+01:00", "...Z"; without a zone it is
                                     local time
  a clock time                       "01:30", "01:30:00", "01:30:00.25": local time, the first time
                                     the clock reads it from the minute the profile started (so
                                     "01:30" in a profile recorded from 23:00 means the next day)
Anything else raises ValueError with the accepted forms.
"""

import datetime
import re

UNIT_NS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}
NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
OFFSET_PART = re.compile(r"(%s)(ms|s|m|h|d)" % NUMBER)
OFFSET = re.compile(r"(?:%s(?:ms|s|m|h|d))+" % NUMBER)
CLOCK = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
FORMS = ("seconds from the start (90, 1.5, 90s, 2m, 1h), an ISO date-time (2026-11-25T01:30:00) "
         "or a clock time (01:30:00)")


def parse(text, start_unix_ns):
    """The unix time in ns that `text` names, for a profile that started at start_unix_ns."""
    spec = text.strip()
    if re.fullmatch(NUMBER, spec):
        return start_unix_ns + decimal_to_ns(spec, 10**9)
    if OFFSET.fullmatch(spec):
        return start_unix_ns + sum(decimal_to_ns(n, UNIT_NS[unit]) for n, unit in OFFSET_PART.findall(spec))
    if CLOCK.fullmatch(spec):
        return clock_time_after(spec, start_unix_ns)
    moment = parse_iso(spec)
    if moment is None:
        raise ValueError("cannot read time %r: give %s" % (text, FORMS))
    return datetime_to_ns(moment)


def decimal_to_ns(number, unit_ns):
    """A decimal string times unit_ns, exactly (no float rounding), to the nearest ns."""
    whole, _, fraction = number.partition(".")
    fraction = fraction[:12]
    scaled = int(whole or 0) * unit_ns
    if fraction:
        scaled += (int(fraction) * unit_ns + 10**len(fraction) // 2) // 10**len(fraction)
    return scaled


def parse_iso(spec):
    """A datetime from an ISO date-time (a trailing Z for UTC allowed), or None."""
    if spec.endswith(("Z", "z")):
        spec = spec[:-1] + "+00:00"
    try:
        return datetime.datetime.fromisoformat(spec)
    except ValueError:
        return None


def clock_time_after(spec, start_unix_ns):
    """The first local time, at or after the minute the profile started, whose clock reads spec
    (HH:MM[:SS[.fff]])."""
    parts = spec.split(":")
    seconds = float(parts[2]) if len(parts) > 2 else 0.0
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59 or seconds >= 60:
        raise ValueError("cannot read time %r: hours go to 23, minutes and seconds to 59" % spec)
    clock = datetime.time(hour, minute, int(seconds), int(round((seconds % 1) * 1e6)))
    start_minute = start_unix_ns - start_unix_ns % (60 * 10**9)
    day = datetime.datetime.fromtimestamp(start_unix_ns // 10**9).date()
    moment = datetime_to_ns(datetime.datetime.combine(day, clock))
    if moment < start_minute:
        moment = datetime_to_ns(datetime.datetime.combine(day + datetime.timedelta(days=1), clock))
    return moment


def datetime_to_ns(moment):
    """Unix time in ns of a datetime; a naive one is local time."""
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return (moment - EPOCH) // datetime.timedelta(microseconds=1) * 1000
