"""Hashing and bucketing as GrowthBook's SDK specification defines them.

A unit is placed by hashing its id with a seed into [0, 1) and finding the
variant whose bucket range holds the value, so every GrowthBook SDK and
tinylift put the same unit in the same variant:

- FNV-1a 32-bit over the string's UTF-16 code units (as JavaScript's
  ``charCodeAt`` sees them, so ids outside the BMP hash as every SDK does);
- hash version 1: ``fnv1a32(value + seed) % 1000 / 1000``;
- hash version 2: ``fnv1a32(str(fnv1a32(seed + value))) % 10000 / 10000``;
- bucket ranges: variant i gets ``[start_i, start_i + coverage * w_i)``, with
  ``start_i`` the sum of earlier weights, so raising coverage only widens each
  range and no assigned unit moves;
- namespaces: ``hash("__" + namespace, id, 1)`` within ``[start, end)``.

:func:`hash_many` does the same for arrays of ids with numpy, one pass per
character position over all ids at once.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tinylift.assignment.conditions import js_number_string
from tinylift.errors import ConfigError

__all__ = [
    "MAX_ID_LENGTH",
    "bucket_ranges",
    "choose_many",
    "choose_variation",
    "chooser",
    "equal_weights",
    "fnv1a32",
    "gb_hash",
    "hash_many",
    "id_string",
    "id_strings",
    "in_namespace",
]

_OFFSET: Final = 0x811C9DC5
_PRIME: Final = 0x01000193
_MASK: Final = 0xFFFFFFFF


def fnv1a32(text: str) -> int:
    """FNV-1a, 32 bits, over the UTF-16 code units of ``text``.

    >>> fnv1a32("a")
    3826002220
    """
    h = _OFFSET
    if text.isascii():
        for b in text.encode():
            h = ((h ^ b) * _PRIME) & _MASK
        return h
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h = ((h ^ (data[i] | (data[i + 1] << 8))) * _PRIME) & _MASK
    return h


_SEED_STATE: dict[str, int] = {}
_LEADING: array[int] | None = None  # FNV state after the decimal digits of n // 10_000


def _seed_state(seed: str) -> int:
    """FNV state after a seed (FNV is a left fold: a common prefix is hashed once)."""
    h = _SEED_STATE.get(seed)
    if h is None:
        if len(_SEED_STATE) > 10_000:
            _SEED_STATE.clear()
        h = _SEED_STATE[seed] = fnv1a32(seed)
    return h


def _leading_table() -> array[int]:
    """States after every possible leading part of a 32-bit number's digits."""
    global _LEADING
    if _LEADING is None:
        lead = np.arange(2**32 // 10_000 + 1, dtype=np.uint64).astype(str)
        codes, lengths = _codepoints(lead)
        state = _fnv_codepoints(codes, lengths).astype(np.uint32)
        _LEADING = array("I", state.tobytes())
    return _LEADING


def _fnv_decimal(n: int) -> int:
    """``fnv1a32(str(n))`` for 0 <= n < 2**32, via the table for all but 4 digits."""
    if n < 10_000:
        return fnv1a32(str(n))
    lead, rest = divmod(n, 10_000)
    d3, rest = divmod(rest, 1000)
    d2, rest = divmod(rest, 100)
    d1, d0 = divmod(rest, 10)
    h: int = _leading_table()[lead]
    # low 32 bits of FNV never depend on higher bits, so one mask at the end
    h = (
        ((((((h ^ (48 + d3)) * _PRIME) ^ (48 + d2)) * _PRIME) ^ (48 + d1)) * _PRIME) ^ (48 + d0)
    ) * _PRIME
    return h & _MASK


def gb_hash(seed: str, value: str, version: int) -> float | None:
    """A unit's position in [0, 1) for a seed; None for an unknown hash version.

    >>> gb_hash("", "a", 1), gb_hash("seed", "a", 2)
    (0.22, 0.0505)
    """
    if version == 2:
        if value.isascii():
            h = _seed_state(seed)
            data = value.encode()
            # the low 32 bits never depend on higher ones, so masking can wait a few
            # steps; masking every 16 keeps the integer small (linear in the id's length)
            for start in range(0, len(data), 16):
                for b in data[start : start + 16]:
                    h = (h ^ b) * _PRIME
                h &= _MASK
            return (_fnv_decimal(h & _MASK) % 10000) / 10000
        return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    return None


def equal_weights(n: int) -> list[float]:
    """``n`` equal weights (none for n < 1)."""
    return [1.0 / n] * n if n >= 1 else []


def bucket_ranges(
    n: int, coverage: float = 1.0, weights: Sequence[float] | None = None
) -> list[tuple[float, float]]:
    """Each variant's bucket range, as the specification computes them.

    Coverage is clamped to [0, 1]; weights of the wrong length or not summing
    to 1 (within 0.01) fall back to equal weights.

    >>> bucket_ranges(2, 0.5)
    [(0.0, 0.25), (0.5, 0.75)]
    """
    coverage = min(max(coverage, 0.0), 1.0)
    w = list(weights) if weights is not None else []
    if len(w) != n or not 0.99 <= sum(w) <= 1.01:
        w = equal_weights(n)
    ranges, start = [], 0.0
    for weight in w:
        ranges.append((start, start + coverage * weight))
        start += weight
    return ranges


def _ordered(ranges: Sequence[tuple[float, float]]) -> bool:
    """Whether ranges come in order without overlapping (what bisection needs)."""
    edges = [edge for pair in ranges for edge in pair]
    return all(a <= b for a, b in pairwise(edges))


def chooser(ranges: Sequence[tuple[float, float]]) -> Callable[[float], int]:
    """A fast :func:`choose_variation` for fixed ranges.

    Ordered, disjoint ranges (what :func:`bucket_ranges` gives) are searched
    by bisection; any others (explicit ranges may be unordered or overlap)
    are scanned in order, the first holding ``n`` winning, as in GrowthBook.

    >>> chooser(bucket_ranges(2, 0.5))(0.6), chooser([(0.5, 1.0), (0.0, 0.6)])(0.55)
    (1, 0)
    """
    if not _ordered(ranges):
        fixed = list(ranges)
        return lambda n: choose_variation(n, fixed)
    edges = [edge for pair in ranges for edge in pair]

    def choose(n: float) -> int:
        i = bisect_right(edges, n)
        # an empty range [a, a) holds nothing: bisect_right passes both its edges
        return i // 2 if i % 2 else -1

    return choose


def choose_variation(n: float, ranges: Sequence[tuple[float, float]]) -> int:
    """The index of the first range holding ``n``, or -1 when none does."""
    for i, (lo, hi) in enumerate(ranges):
        if lo <= n < hi:
            return i
    return -1


def choose_many(values: ArrayLike, ranges: Sequence[tuple[float, float]]) -> NDArray[np.int64]:
    """:func:`choose_variation` for an array of hash values (-1 where none).

    Ordered, disjoint ranges are found by binary search over their sorted
    edges; other ranges are tested in reverse order so the first holding a
    value wins.

    >>> choose_many([0.2, 0.4, 0.6], bucket_ranges(2, 0.5)).tolist()
    [0, -1, 1]
    """
    v = np.asarray(values, dtype=np.float64)
    if not _ordered(ranges):
        out = np.full(v.shape, -1, dtype=np.int64)
        for i in reversed(range(len(ranges))):
            lo, hi = ranges[i]
            out[(v >= lo) & (v < hi)] = i
        return out
    edges = np.array([edge for pair in ranges for edge in pair], dtype=np.float64)
    pos = np.searchsorted(edges, v, side="right")
    return np.where(pos % 2 == 1, pos // 2, -1).astype(np.int64)


def in_namespace(unit_id: str, namespace: tuple[str, float, float]) -> bool:
    """Whether a unit falls in a namespace's slice ``(name, start, end)``."""
    name, start, end = namespace
    n = gb_hash("__" + name, unit_id, 1)
    assert n is not None
    return start <= n < end


def _fnv_codepoints(
    codes: NDArray[np.uint32], lengths: NDArray[np.int64], start: int = _OFFSET
) -> NDArray[np.uint64]:
    """FNV-1a over rows of code points (zero-padded), vectorised over rows.

    ``start`` is the hash state after a common prefix (FNV is a left fold,
    so a seed that precedes every id is hashed once, not once per id).
    """
    h = np.full(codes.shape[0], start, dtype=np.uint64)
    prime = np.uint64(_PRIME)
    mask = np.uint64(_MASK)
    shortest = int(lengths.min()) if len(lengths) else 0
    columns = np.ascontiguousarray(codes.T).astype(np.uint64)  # one contiguous row per position
    for pos in range(codes.shape[1]):
        step = ((h ^ columns[pos]) * prime) & mask
        # every row has this position: no need to keep any row's old value
        h = step if pos < shortest else np.where(pos < lengths, step, h)
    return h


def _fnv_of_decimal(values: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """FNV-1a of each number's decimal string, without building the strings.

    Values are 32-bit, so at most ten digits, taken with uint32 division from
    the right and hashed from the left; a row joins once its first digit is
    reached.
    """
    q = values.astype(np.uint32)
    digits = []
    for _ in range(10):
        q, r = np.divmod(q, np.uint32(10))
        digits.append(r)
    digits.reverse()  # digits[0] is the most significant of ten
    v32 = values.astype(np.uint32)
    prime = np.uint64(_PRIME)
    mask = np.uint64(_MASK)
    h = np.full(len(v32), _OFFSET, dtype=np.uint64)
    for k, d in enumerate(digits):
        step = ((h ^ (d.astype(np.uint64) + np.uint64(48))) * prime) & mask
        # a row's string starts at its first significant digit; the last digit
        # always counts (the number 0 is "0")
        h = step if k == 9 else np.where(v32 >= np.uint32(10 ** (9 - k)), step, h)
    return h


def _codepoints(strings: NDArray[np.str_]) -> tuple[NDArray[np.uint32], NDArray[np.int64]]:
    width = strings.dtype.itemsize // 4
    codes = np.ascontiguousarray(strings).view(np.uint32).reshape(len(strings), max(width, 1))
    lengths = np.char.str_len(strings).astype(np.int64)
    return codes, lengths


#: The longest unit id tinylift stores: the collector refuses longer ones by name and
#: the client counts them as rejected. Assignment itself hashes ids of any length.
MAX_ID_LENGTH: Final = 200

#: Ids up to this many characters are hashed column by column; longer ones one at a time,
#: so one long id never widens the whole batch's fixed-width array.
_WIDE: Final = 64
#: Ids hashed at once in one numpy pass (bounds the working memory to a few tens of MB).
_CHUNK: Final = 100_000


def id_string(value: object) -> str:
    """The text GrowthBook's SDKs hash for an attribute value; "" when it names no unit.

    Strings are used as they are (the empty string names no unit); numbers
    other than 0, NaN and the infinities are written as JavaScript's
    ``String()`` writes them (``1.0`` is ``"1"``, ``1e21`` is ``"1e+21"``);
    booleans, None and anything else name no unit.

    >>> id_string(42), id_string(1.5), id_string(0), id_string(True), id_string(None)
    ('42', '1.5', '', '', '')
    """
    if isinstance(value, str):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    try:
        x = float(value)
    except OverflowError:
        return ""
    if x == 0 or not math.isfinite(x):
        return ""
    return js_number_string(x)


def id_strings(values: ArrayLike) -> list[str] | NDArray[np.str_]:
    """:func:`id_string` for many values ("" for those that name no unit).

    A numpy array of strings is returned as it is; numbers are formatted
    with numpy where that gives JavaScript's text, one at a time otherwise.
    """
    if isinstance(values, np.ndarray):
        arr = values.ravel()
        kind = arr.dtype.kind
        if kind == "U":
            return arr
        if kind == "b":
            return np.full(len(arr), "", dtype="<U1")
        if kind in "iu":
            out = arr.astype(str)
            out[arr == 0] = ""
            big = np.flatnonzero(np.abs(arr.astype(np.float64)) > 2**53)
            for i in big:  # JavaScript holds them as doubles
                out[i] = id_string(int(arr[i]))
            return out
        if kind == "f":
            x = arr.astype(np.float64)
            plain = np.isfinite(x) & (x == np.round(x)) & (np.abs(x) < 2**53)
            ints = np.where(plain, x, 0).astype(np.int64).astype(str)
            out = ints.astype(object)
            for i in np.flatnonzero(~plain):
                out[i] = id_string(float(x[i]))
            out[x == 0] = ""
            return list(out)
        return [id_string(v) for v in arr.tolist()] if kind != "O" else [id_string(v) for v in arr]
    if isinstance(values, str):
        return [values]
    return [id_string(v) for v in values]  # type: ignore[union-attr]


def hash_many(seed: str, values: ArrayLike, version: int = 2) -> NDArray[np.float64]:
    """:func:`gb_hash` for many ids at once (identical results).

    Ids are strings (or any values, formatted by :func:`id_string`). Ids of
    up to 64 characters are hashed column by column with numpy in chunks of
    100,000; longer ones, and the rare id that numpy's fixed-width strings
    cannot carry exactly (a trailing NUL, or a character outside the BMP,
    which UTF-16 splits in two), one at a time, so time is linear in the
    total length and memory stays bounded whatever the ids.

    >>> hash_many("seed", ["a", "b"], 2).tolist()
    [0.0505, 0.2696]
    """
    if version not in (1, 2):
        raise ConfigError(
            f"unknown hash version {version}; GrowthBook defines 1 and 2", parameter="version"
        )
    ids = id_strings(values)
    n = len(ids)
    out = np.empty(n, dtype=np.float64)
    if n == 0:
        return out
    if isinstance(ids, np.ndarray):
        lengths = np.char.str_len(ids).astype(np.int64)
        exact = np.ones(n, dtype=bool)  # what numpy holds is the id
    else:
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=n)
        exact = np.fromiter((not s or s[-1] != "\x00" for s in ids), dtype=bool, count=n)
    short = exact & (lengths <= _WIDE)
    for i in np.flatnonzero(~short):
        value = gb_hash(seed, str(ids[i]), version)
        assert value is not None
        out[i] = value
    where = np.flatnonzero(short)
    for lo in range(0, len(where), _CHUNK):
        part = where[lo : lo + _CHUNK]
        if isinstance(ids, np.ndarray):
            chunk = ids[part]
            if chunk.dtype.itemsize > 4 * _WIDE:
                chunk = chunk.astype(f"<U{_WIDE}")
        else:
            chunk = np.array([ids[i] for i in part], dtype=f"<U{_WIDE}")
        out[part] = _hash_chunk(seed, chunk, version)
    return out


def _hash_chunk(seed: str, ids: NDArray[np.str_], version: int) -> NDArray[np.float64]:
    """Hash fixed-width ids of at most :data:`_WIDE` characters (no trailing NUL)."""
    if "\x00" in seed or (not seed.isascii() and any(ord(c) > 0xFFFF for c in seed)):
        return np.array([gb_hash(seed, str(v), version) for v in ids], dtype=np.float64)
    if version == 1:  # the seed follows the id: hash the joined strings
        codes, lengths = _codepoints(np.char.add(ids, seed))
        prefix = _OFFSET
    else:  # the seed precedes the id: start every row from the seed's state
        codes, lengths = _codepoints(ids)
        prefix = _seed_state(seed)
    # numpy keeps code points, not UTF-16 units: ids outside the BMP go one by one
    odd = (codes > 0xFFFF).any(axis=1) if codes.size and int(codes.max()) > 0xFFFF else None
    first = _fnv_codepoints(codes, lengths, prefix)
    if version == 1:
        out = (first % np.uint64(1000)).astype(np.float64) / 1000
    else:
        out = (_fnv_of_decimal(first) % np.uint64(10000)).astype(np.float64) / 10000
    if odd is not None:
        for i in np.flatnonzero(odd):
            value = gb_hash(seed, str(ids[i]), version)
            assert value is not None
            out[i] = value
    return out
