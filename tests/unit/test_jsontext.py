# The dashboard's JSON writer (loopscope.server.jsontext) and the engine's id-list functions under
# it (loopscope._engine.parse_id_lists / renumber_ids / gather / json_ints): the same text as the
# standard library's for the same values, arrays anywhere, and bad input refused.
import json
import math
from array import array

import pytest

from loopscope import _engine
from loopscope.server import jsontext


def test_arrays_anywhere_read_back_as_lists():
    value = {"nodes": {"parent": array("i", [-1, 0, 1]), "total": array("Q", [2**64 - 1, 0])},
             "rows": [[1, 2.5, "x"], (3, None)], "series": [array("I", []), array("q", [-(2**63)])],
             "text": "a \u00e9 \u2603 \"quoted\" \x00 </script>", "flag": True}
    lists = json.loads(json.dumps(value, default=lambda a: a.tolist()))
    assert json.loads(jsontext.encode(value)) == lists
    assert jsontext.text({"a": array("i", [1, -2])}) == '{"a":[1,-2]}'


def test_text_that_looks_like_a_placeholder_stays_text():
    # what a placeholder looks like, without this call's nonce: it must come out as the string it is
    value = {"trap": "\0deadbeefdeadbeef:0\0", "a": array("i", [7])}
    assert json.loads(jsontext.text(value)) == {"trap": "\0deadbeefdeadbeef:0\0", "a": [7]}


def test_refusals():
    with pytest.raises(ValueError):
        jsontext.text({"x": math.nan})
    with pytest.raises(TypeError):
        jsontext.text({"x": object()})
    with pytest.raises(TypeError):
        _engine.json_ints(array("d", [1.0]))


def test_parse_and_renumber_stored_stacks():
    offsets, values = _engine.parse_id_lists(["[12,7,3]", "[]", " [ 7 ] "])
    assert offsets.tolist() == [0, 3, 3, 4] and values.tolist() == [12, 7, 3, 7]
    distinct, renumbered = _engine.renumber_ids(values)
    assert distinct.tolist() == [3, 7, 12] and renumbered.tolist() == [2, 1, 0, 1]
    for bad in (["[1,]"], ["oops"], ["[4294967296]"], ["[-1]"]):
        with pytest.raises(ValueError, match="not a list of ids"):
            _engine.parse_id_lists(bad)
    with pytest.raises(TypeError):
        _engine.parse_id_lists([b"[1]"])


def test_gather():
    out = _engine.gather(array("i", [2, -1, 0]), array("i", [10, 20, 30]), -5)
    assert out.typecode == "i" and out.tolist() == [30, -5, 10]
    with pytest.raises(ValueError, match="past the table"):
        _engine.gather(array("i", [3]), array("i", [10, 20, 30]), 0)
