"""Pure-Python reference for src/engine/linetable.c.

The same three decoders as the C engine - 3.8/3.9 ``co_lnotab``, the 3.10 ``co_linetable``
(PEP 626) and the 3.11+ location table - written for clarity, not speed, so that the tests can
check the C decoder against it and it against CPython. ``decode`` returns the ranges as a list of
``(start, end, line)`` tuples with exactly the C decoder's rules: half-open, sorted, empty ranges
dropped, adjacent ranges with the same line merged, ``LINE_NONE`` (-1) for "no line", units in
bytes for kinds 1 and 2 and in code units for kind 3, and the last lnotab range open-ended at
``UINT32_MAX``. Malformed tables raise ``BadLineTable`` (a ``ValueError``) where the C decoder
returns LS_ERR_BAD_LINETABLE. It does not model columns, nor the C decoder's partial output on
error.
"""

from bisect import bisect_right

KIND_LNOTAB = 1
KIND_310 = 2
KIND_LOCATIONS = 3

LINE_NONE = -1
MAX_BYTES = 1 << 20
UINT32_MAX = 2**32 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

_310_NO_LINE = -128
_NO_COLUMNS, _LONG, _NONE = 13, 14, 15
_VARINT_MAX_GROUPS = 6


class BadLineTable(ValueError):
    """The table is malformed (LS_ERR_BAD_LINETABLE)."""


class _Ranges:
    """Builder that applies the C decoder's append rule."""

    def __init__(self):
        self.items = []

    def push(self, start, end, line):
        if end <= start:
            return
        if self.items:
            last_start, last_end, last_line = self.items[-1]
            if last_end == start and last_line == line:
                self.items[-1] = (last_start, end, line)
                return
        self.items.append((start, end, line))


def _advance_line(line, delta):
    line += delta
    if not INT32_MIN <= line <= INT32_MAX:
        raise BadLineTable("line number out of range")
    return line


def _advance_addr(addr, delta):
    addr += delta
    if addr > UINT32_MAX:
        raise BadLineTable("address out of range")
    return addr


def _signed_byte(b):
    return b - 256 if b >= 128 else b


def _decode_lnotab(table, firstlineno):
    if len(table) % 2:
        raise BadLineTable("odd-length lnotab")
    out, addr, line = _Ranges(), 0, firstlineno
    for i in range(0, len(table), 2):
        nxt = _advance_addr(addr, table[i])
        out.push(addr, nxt, line)
        addr = nxt
        line = _advance_line(line, _signed_byte(table[i + 1]))
    out.push(addr, UINT32_MAX, line)
    return out.items


def _decode_310(table, firstlineno):
    if len(table) % 2:
        raise BadLineTable("odd-length linetable")
    out, addr, line = _Ranges(), 0, firstlineno
    for i in range(0, len(table), 2):
        start, addr = addr, _advance_addr(addr, table[i])
        delta = _signed_byte(table[i + 1])
        if delta == _310_NO_LINE:
            out.push(start, addr, LINE_NONE)
        else:
            line = _advance_line(line, delta)
            out.push(start, addr, line)
    return out.items


class _Reader:
    """Reads the bytes that follow a location entry's first byte."""

    def __init__(self, table):
        self.table, self.pos = table, 0

    def byte(self):
        if self.pos >= len(self.table) or self.table[self.pos] & 0x80:
            raise BadLineTable("truncated or misplaced location entry")
        self.pos += 1
        return self.table[self.pos - 1]

    def varint(self):
        value = 0
        for group in range(_VARINT_MAX_GROUPS):
            b = self.byte()
            value |= (b & 0x3F) << (6 * group)
            if not b & 0x40:
                if value > UINT32_MAX:
                    raise BadLineTable("varint out of range")
                return value
        raise BadLineTable("varint too long")

    def signed_varint(self):
        raw = self.varint()
        return -(raw >> 1) if raw & 1 else raw >> 1


def _decode_locations(table, firstlineno):
    out, addr, line = _Ranges(), 0, firstlineno
    r = _Reader(table)
    while r.pos < len(table):
        head = table[r.pos]
        r.pos += 1
        if not head & 0x80:
            raise BadLineTable("location entry does not start with bit 7 set")
        code, length = (head >> 3) & 0x0F, (head & 0x07) + 1
        delta = 0
        if code < 10:
            r.byte()
        elif code < _NO_COLUMNS:
            delta = code - 10
            r.byte()
            r.byte()
        elif code == _NO_COLUMNS:
            delta = r.signed_varint()
        elif code == _LONG:
            delta = r.signed_varint()
            r.varint()
            r.varint()
            r.varint()
        line = _advance_line(line, delta)
        start, addr = addr, _advance_addr(addr, length)
        out.push(start, addr, LINE_NONE if code == _NONE else line)
    return out.items


_DECODERS = {KIND_LNOTAB: _decode_lnotab, KIND_310: _decode_310, KIND_LOCATIONS: _decode_locations}


def decode(kind, table, firstlineno):
    """The ranges of `table` (bytes) of `kind` as a list of (start, end, line) tuples."""
    if kind not in _DECODERS:
        raise ValueError("unknown line table kind %r" % (kind,))
    if len(table) > MAX_BYTES:
        raise BadLineTable("line table too long")
    return _DECODERS[kind](bytes(table), firstlineno)


def lookup(ranges, pos, firstlineno):
    """The line at `pos` (units of the table's kind): firstlineno before the first instruction
    (pos < 0), LINE_NONE outside every range."""
    if pos < 0:
        return firstlineno
    i = bisect_right(ranges, (pos, UINT32_MAX + 1)) - 1
    if i >= 0 and ranges[i][0] <= pos < ranges[i][1]:
        return ranges[i][2]
    return LINE_NONE
