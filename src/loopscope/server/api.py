# api.py - the dashboard's JSON API as a pure function: a path and its query parameters in, a status
# and a JSON-ready body out. The HTTP server and the HTML report both go through dispatch().
"""The API routes (GET, query-string parameters; times in Unix ns):

    /api/summary
    /api/timeline   start, end, points
    /api/flame      start, end, thread, weight, granularity
    /api/functions  start, end, thread, weight, granularity
    /api/source     path, start, end, thread, weight
    /api/diff       base_start, base_end, start, end, thread, weight, granularity

weight: wall (default) | cpu | samples; granularity: function (default) | line; thread: a native
id or a thread name (absent: every thread). A bad parameter is a 400 with a message, an unknown
route or a source file the profile does not hold a 404.
"""

from loopscope.server import queries
from loopscope.storage import ProfileError

WEIGHTS = ("wall", "cpu", "samples")
GRANULARITIES = ("function", "line")


class BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def integer(params, name, default=None, low=None, high=None):
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(400, "parameter %s must be an integer, not %r" % (name, value)) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise BadRequest(400, "parameter %s must be between %s and %s" % (name, low, high))
    return number


def choice(params, name, choices):
    value = params.get(name) or choices[0]
    if value not in choices:
        raise BadRequest(400, "parameter %s must be one of %s, not %r" % (name, ", ".join(choices), value))
    return value


def time_range(params, prefix=""):
    return integer(params, prefix + "start"), integer(params, prefix + "end")


def thread_of(params):
    value = params.get("thread")
    return value if value not in (None, "", "all") else None


def by_line(params):
    return choice(params, "granularity", GRANULARITIES) == "line"


def route_summary(profile, params):
    return queries.summary(profile)


def route_timeline(profile, params):
    return queries.timeline(profile, *time_range(params), points=integer(params, "points", 300, 1, queries.MAX_POINTS))


def route_flame(profile, params):
    return queries.flame(profile, *time_range(params), thread=thread_of(params),
                         weight=choice(params, "weight", WEIGHTS), by_line=by_line(params))


def route_functions(profile, params):
    return queries.functions(profile, *time_range(params), thread=thread_of(params),
                             weight=choice(params, "weight", WEIGHTS), by_line=by_line(params))


def route_source(profile, params):
    path = params.get("path")
    if not path:
        raise BadRequest(400, "parameter path is required")
    result = queries.source(profile, path, *time_range(params), thread=thread_of(params),
                            weight=choice(params, "weight", WEIGHTS))
    if result is None:
        raise BadRequest(404, "the profile holds no source file %r" % path)
    return result


def route_diff(profile, params):
    return queries.diff(profile, time_range(params, "base_"), time_range(params), thread=thread_of(params),
                        weight=choice(params, "weight", WEIGHTS), by_line=by_line(params))


ROUTES = {
    "/api/summary": route_summary,
    "/api/timeline": route_timeline,
    "/api/flame": route_flame,
    "/api/functions": route_functions,
    "/api/source": route_source,
    "/api/diff": route_diff,
}


def dispatch(profile, path, params):
    """(status, body): body is the route's dict, or {"error": message} for a status other than 200."""
    route = ROUTES.get(path)
    if route is None:
        return 404, {"error": "no such API route: %s" % path}
    try:
        return 200, route(profile, params)
    except BadRequest as e:
        return e.status, {"error": str(e)}
    except ProfileError as e:
        # a thread the profile lacks is the caller's mistake; damage is the file's
        status = 404 if "has no thread" in str(e) else 500
        return status, {"error": str(e)}
