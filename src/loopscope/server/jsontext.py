# jsontext.py - the dashboard's JSON writer: the standard library's, except that integer arrays
# (the call tree's node columns, tens of thousands of values) are written by the engine in C.
"""encode(value) -> bytes: compact JSON, where an array.array of integers anywhere in value becomes
a JSON list. NaN and infinities are refused (ValueError), as in every answer of the dashboard.

The standard encoder writes everything else; each array is first written as a placeholder string
that holds a random nonce (fresh per call, so no text in the profile can look like one), and the
placeholders are then replaced by the arrays' text in one pass."""

import json
import os
import re
from array import array

from loopscope import _engine


def encode(value):
    """The UTF-8 bytes of the JSON text of value."""
    return text(value).encode()


def text(value):
    """The JSON text of value."""
    nonce = os.urandom(8).hex()
    arrays = []

    def placeholder(obj):
        if isinstance(obj, array):
            arrays.append(obj)
            return "\0%s:%d\0" % (nonce, len(arrays) - 1)
        raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)

    out = json.dumps(value, separators=(",", ":"), allow_nan=False, default=placeholder)
    if not arrays:
        return out
    pattern = re.compile(r'"\\u0000%s:(\d+)\\u0000"' % nonce)
    return pattern.sub(lambda m: _engine.json_ints(arrays[int(m.group(1))]), out)
