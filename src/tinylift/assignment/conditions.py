"""GrowthBook's targeting condition language, with JavaScript's semantics.

A condition is a MongoDB-style document evaluated against a unit's
attributes: ``{"country": {"$in": ["US", "CA"]}, "app": {"$vgte": "2.1.0"}}``.
Every GrowthBook SDK evaluates conditions as the JavaScript SDK does, so
comparisons here follow JavaScript: ``"10" < "9"`` (strings compare by
UTF-16 code units), ``null * 1 === 0``, ``[] `` is truthy, ``$eq`` is
``===`` (objects are equal only to themselves), ``$in`` intersects arrays.

Operators: ``$and $or $nor $not`` (logic), ``$eq $ne $lt $lte $gt $gte``,
``$in $nin $ini $nini $all $alli $elemMatch $size $exists $type``,
``$regex $regexi``, ``$veq $vne $vgt $vgte $vlt $vlte`` (versions, semver
pre-releases below releases), ``$inGroup $notInGroup`` (saved groups, given
as ``{group id: [values]}``). Paths are dotted (``"user.plan"``; array
indices and ``length`` as in JavaScript).

Regular expressions run on Python's :mod:`re`; patterns that mean something
else in JavaScript (``(?<name>…)`` is accepted by both, ``$`` before a final
newline is not) are the one documented difference.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

__all__ = [
    "eval_condition",
    "js_number",
    "js_number_string",
    "js_string",
    "padded_version",
    "validate_condition",
]

#: Operators a condition value may use.
OPERATORS = frozenset(
    [
        "$eq",
        "$ne",
        "$lt",
        "$lte",
        "$gt",
        "$gte",
        "$exists",
        "$in",
        "$ini",
        "$nin",
        "$nini",
        "$inGroup",
        "$notInGroup",
        "$not",
        "$size",
        "$elemMatch",
        "$all",
        "$alli",
        "$regex",
        "$regexi",
        "$type",
        "$veq",
        "$vne",
        "$vgt",
        "$vgte",
        "$vlt",
        "$vlte",
    ]
)
#: Keys that combine conditions at the top of a condition document.
LOGIC = frozenset({"$or", "$nor", "$and", "$not", "$savedGroup"})


# -- JavaScript values ---------------------------------------------------------------


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def js_number_string(x: float) -> str:
    """``String(x)`` for a JavaScript number (shortest round-trip digits).

    >>> js_number_string(1.0), js_number_string(1e21), js_number_string(1.5e-7)
    ('1', '1e+21', '1.5e-7')
    """
    try:
        x = float(x)
    except OverflowError:
        return "Infinity" if x > 0 else "-Infinity"
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + js_number_string(-x)
    # repr is the shortest round-trip form: split it into digits and a decimal point
    text = repr(x)
    mantissa, _, exponent = text.partition("e")
    head, _, tail = mantissa.partition(".")
    tail = tail.rstrip("0")
    digits = (head + tail).lstrip("0")
    # x = 0.digits * 10**point
    point = int(exponent or 0) + len(head) - (len(head + tail) - len(digits))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= point <= 21:
        return digits + "0" * (point - k)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    exp = point - 1
    lead = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{lead}e{'+' if exp > 0 else '-'}{abs(exp)}"


def js_string(v: object) -> str:
    """JavaScript's ``String(v)`` for JSON values (None is ``null``)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_number(v):
        return js_number_string(v)  # type: ignore[arg-type]
    if isinstance(v, str):
        return v
    if isinstance(v, list | tuple):
        return ",".join("" if e is None else js_string(e) for e in v)
    return "[object Object]"


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Infinity)")


def js_number(v: object) -> float:
    """JavaScript's ``Number(v)`` (``v * 1``) for JSON values; NaN when not a number."""
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if _is_number(v):
        try:
            return float(v)  # type: ignore[arg-type]
        except OverflowError:
            return math.inf if v > 0 else -math.inf  # type: ignore[operator]
    if isinstance(v, str):
        s = v.strip(" \t\n\v\f\r\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff")
        s = re.sub(r"^[\u2000-\u200a]+|[\u2000-\u200a]+$", "", s)
        if s == "":
            return 0.0
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", s):
            return float(int(s[2:], 16))
        if re.fullmatch(r"0[oO][0-7]+", s):
            return float(int(s[2:], 8))
        if re.fullmatch(r"0[bB][01]+", s):
            return float(int(s[2:], 2))
        if _NUMBER.fullmatch(s):
            return float(s.replace("Infinity", "inf"))
        return math.nan
    if isinstance(v, list | tuple):
        return js_number(js_string(v))
    return math.nan


def _truthy(v: object) -> bool:
    if v is None or v is False:
        return False
    if _is_number(v):
        return not (v == 0 or v != v)
    if isinstance(v, str):
        return v != ""
    return True  # arrays and objects, even empty ones


def _strict_equal(a: object, b: object) -> bool:
    """``a === b`` (objects and arrays only equal themselves)."""
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is b


def _same_value_zero(a: object, b: object) -> bool:
    """``Array.prototype.includes`` equality: ``===`` except that NaN equals NaN."""
    if _is_number(a) and _is_number(b) and a != a and b != b:
        return True
    return _strict_equal(a, b)


def _units(s: str) -> bytes:
    """A string as big-endian UTF-16, whose byte order is JavaScript's string order."""
    return s.encode("utf-16-be", "surrogatepass")


def _primitive(v: object) -> object:
    """ToPrimitive for JSON values: arrays and objects become strings."""
    if isinstance(v, list | tuple | dict):
        return js_string(v)
    return v


def _less(a: object, b: object) -> bool | None:
    """JavaScript's abstract ``a < b``: None where it is undefined (a NaN)."""
    pa, pb = _primitive(a), _primitive(b)
    if isinstance(pa, str) and isinstance(pb, str):
        return _units(pa) < _units(pb)
    na, nb = js_number(pa), js_number(pb)
    if math.isnan(na) or math.isnan(nb):
        return None
    return na < nb


def _lt(a: object, b: object) -> bool:
    return _less(a, b) is True


def _lte(a: object, b: object) -> bool:
    r = _less(b, a)
    return r is False


def _json(v: object) -> str:
    """``JSON.stringify`` for JSON values (keys in their order, JS number format)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_number(v):
        return js_number_string(v) if math.isfinite(float(v)) else "null"  # type: ignore[arg-type]
    if isinstance(v, str):
        return _json_string(v)
    if isinstance(v, list | tuple):
        return "[" + ",".join(_json(e) for e in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ",".join(f"{_json_string(str(k))}:{_json(e)}" for k, e in v.items()) + "}"
    return "null"


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _json_string(s: str) -> str:
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _type(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if _is_number(v):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list | tuple):
        return "array"
    if isinstance(v, Mapping):
        return "object"
    return "unknown"


@lru_cache(maxsize=1024)
def padded_version(text: str) -> str:
    """A version string padded so that string order is version order.

    ``v`` prefixes and ``+build`` suffixes are ignored; a release sorts after
    its pre-releases (``1.0.0`` > ``1.0.0-rc.1``).

    >>> padded_version("1.2.3") > padded_version("1.2.3-beta")
    True
    >>> padded_version("9") < padded_version("10")
    True
    """
    parts = re.split(r"[-.]", re.sub(r"^v|\+.*$", "", text))
    if len(parts) == 3:
        parts.append("~")
    return "-".join(p.rjust(5) if re.fullmatch(r"[0-9]+", p) else p for p in parts)


def _version(v: object) -> str:
    if _is_number(v):
        v = js_number_string(v)  # type: ignore[arg-type]
    if not v or not isinstance(v, str):
        v = "0"
    return padded_version(v)


@lru_cache(maxsize=1024)
def _regex(pattern: str, insensitive: bool) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.IGNORECASE if insensitive else 0)
    except (re.error, RecursionError, OverflowError):
        return None


def _path(obj: object, path: str) -> object:
    current = obj
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list | tuple) and part == "length":
            current = len(current)
        elif (
            isinstance(current, list | tuple)
            and re.fullmatch(r"0|[1-9][0-9]{0,9}", part)
            and int(part) < len(current)
        ):
            current = current[int(part)]
        else:
            return None
    return current


def _is_operator_object(v: object) -> bool:
    return isinstance(v, Mapping) and len(v) > 0 and all(str(k).startswith("$") for k in v)


def _fold(v: object) -> object:
    return v.lower() if isinstance(v, str) else v


def _is_in(actual: object, expected: Sequence[object], insensitive: bool = False) -> bool:
    if insensitive:
        items = actual if isinstance(actual, list | tuple) else [actual]
        return any(_same_value_zero(_fold(a), _fold(e)) for a in items for e in expected)
    if isinstance(actual, list | tuple):
        return any(_same_value_zero(a, e) for a in actual for e in expected)
    return any(_same_value_zero(actual, e) for e in expected)


def _value(
    condition: object, value: object, groups: Mapping[str, Sequence[object]], fold: bool = False
) -> bool:
    if isinstance(condition, str):
        if fold:
            return js_string(value).lower() == condition.lower()
        return js_string(value) == condition
    if isinstance(condition, bool):
        return value is not None and _truthy(value) == condition
    if _is_number(condition):
        return js_number(value) == condition
    if condition is None:
        return value is None
    if isinstance(condition, list | tuple) or not _is_operator_object(condition):
        return _json(value) == _json(condition)
    assert isinstance(condition, Mapping)
    return all(_operator(op, value, expected, groups) for op, expected in condition.items())


def _operator(
    op: str, actual: object, expected: Any, groups: Mapping[str, Sequence[object]]
) -> bool:
    if op in ("$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"):
        a, b = _units(_version(actual)), _units(_version(expected))
        return {
            "$veq": a == b,
            "$vne": a != b,
            "$vgt": a > b,
            "$vgte": a >= b,
            "$vlt": a < b,
            "$vlte": a <= b,
        }[op]
    if op == "$eq":
        return _strict_equal(actual, expected)
    if op == "$ne":
        return not _strict_equal(actual, expected)
    if op == "$lt":
        return _lt(actual, expected)
    if op == "$lte":
        return _lte(actual, expected)
    if op == "$gt":
        return _lt(expected, actual)
    if op == "$gte":
        return _lte(expected, actual)
    if op == "$exists":
        return (actual is not None) if _truthy(expected) else (actual is None)
    if op in ("$in", "$ini", "$nin", "$nini"):
        if not isinstance(expected, list | tuple):
            return False
        found = _is_in(actual, expected, insensitive=op.endswith("i"))
        return found if op in ("$in", "$ini") else not found
    if op in ("$inGroup", "$notInGroup"):
        members = _group_values(groups, expected)
        if members is None:  # a malformed group or one of conditions: matches nobody
            return False
        found = _is_in(actual, members)
        return found if op == "$inGroup" else not found
    if op == "$not":
        return not _value(expected, actual, groups)
    if op == "$size":
        if not isinstance(actual, list | tuple):
            return False
        return _value(expected, len(actual), groups)
    if op == "$elemMatch":
        if not isinstance(actual, list | tuple):
            return False
        for item in actual:
            if item is None:  # only nullish members are skipped (0, "" and false count)
                continue
            if _is_operator_object(expected):
                if _value(expected, item, groups):
                    return True
            elif isinstance(expected, Mapping) and eval_condition(item, expected, groups):
                return True
        return False
    if op in ("$all", "$alli"):
        if not isinstance(expected, list | tuple) or not isinstance(actual, list | tuple):
            return False
        fold = op == "$alli"
        return all(any(_value(e, a, groups, fold) for a in actual) for e in expected)
    if op in ("$regex", "$regexi"):
        if not isinstance(expected, str):
            expected = js_string(expected)
        pattern = _regex(expected, op == "$regexi")
        return pattern is not None and pattern.search(js_string(actual)) is not None
    if op == "$type":
        return bool(_type(actual) == expected)
    return False  # an unknown operator matches nothing, as in every SDK


def _group_values(groups: Mapping[str, Any], group: object) -> Sequence[object] | None:
    """A saved group's values: a bare list, or ``{"type": "list", "values": [...]}``."""
    if not isinstance(group, str):
        return None if group is not None else []
    entry = groups.get(group)
    if entry is None:
        return []  # an unknown group is an empty list
    if isinstance(entry, list | tuple):
        return entry
    if isinstance(entry, Mapping) and entry.get("type") == "list":
        values = entry.get("values")
        return values if isinstance(values, list | tuple) else None
    return None


def _saved_group(
    attributes: object, ref: object, groups: Mapping[str, Any], seen: frozenset[str]
) -> bool:
    """``{"$savedGroup": {"id": ..., "attributeKey": ...}}``: a list or condition group."""
    if not isinstance(ref, Mapping):
        return False
    gid, key = ref.get("id"), ref.get("attributeKey")
    if not isinstance(gid, str) or gid in seen or (key is not None and not isinstance(key, str)):
        return False
    entry = groups.get(gid)
    if not isinstance(entry, Mapping):
        return False
    if entry.get("type") == "list":
        key = key if key is not None else entry.get("attributeKey")
        values = entry.get("values")
        if not isinstance(key, str) or not isinstance(values, list | tuple):
            return False
        return _is_in(_path(attributes, key), values)
    if entry.get("type") == "condition":
        cond = entry.get("condition")
        if not isinstance(cond, Mapping):
            return False
        return eval_condition(attributes, cond, groups, seen | {gid})
    return False


def eval_condition(
    attributes: object,
    condition: Mapping[str, Any],
    saved_groups: Mapping[str, Any] | None = None,
    _seen: frozenset[str] = frozenset(),
) -> bool:
    """Whether attributes satisfy a condition (an empty condition always holds).

    ``saved_groups`` maps a group id to its values (a list, or GrowthBook's
    ``{"type": "list", "attributeKey", "values"}``) or to
    ``{"type": "condition", "condition"}`` for ``$savedGroup`` references.

    >>> eval_condition({"country": "US", "age": 30}, {"age": {"$gte": 18}, "country": "US"})
    True
    """
    groups = saved_groups or {}
    for key, value in condition.items():
        if key == "$or":
            if not _any(attributes, value, groups, _seen):
                return False
        elif key == "$nor":
            if _any(attributes, value, groups, _seen):
                return False
        elif key == "$and":
            if not all(eval_condition(attributes, c, groups, _seen) for c in _conditions(value)):
                return False
        elif key == "$not":
            if isinstance(value, Mapping) and eval_condition(attributes, value, groups, _seen):
                return False
        elif key == "$savedGroup":
            if not _saved_group(attributes, value, groups, _seen):
                return False
        elif not _value(value, _path(attributes, key), groups):
            return False
    return True


def _conditions(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [c for c in value if isinstance(c, Mapping)]


def _any(
    attributes: object, value: object, groups: Mapping[str, Any], seen: frozenset[str]
) -> bool:
    conditions = _conditions(value)
    if not conditions:
        return True
    return any(eval_condition(attributes, c, groups, seen) for c in conditions)


def validate_condition(condition: object, where: str = "condition") -> list[str]:
    """Problems that make a condition mean something other than intended (empty: none).

    Unknown operators (``$gtt``) are the usual mistake: every SDK treats them
    as never matching, so a typo would silently exclude everyone.
    """
    problems: list[str] = []
    if not isinstance(condition, Mapping):
        return [f"{where}: a condition is a mapping of attribute -> value or operators"]

    def walk(node: object, at: str, top: bool) -> None:
        if not top and not _is_operator_object(node):
            return  # a plain value: compared as JSON
        if isinstance(node, Mapping):
            for k, v in node.items():
                key = str(k)
                if key.startswith("$"):
                    if top and key in ("$or", "$nor", "$and"):
                        if not isinstance(v, list | tuple):
                            problems.append(f"{at}.{key}: takes a list of conditions")
                        else:
                            for i, c in enumerate(v):
                                walk(c, f"{at}.{key}[{i}]", True)
                        continue
                    if top and key == "$not":
                        walk(v, f"{at}.$not", True)
                        continue
                    if top and key == "$savedGroup":
                        continue
                    if key not in OPERATORS:
                        problems.append(f"{at}: unknown operator {key!r}")
                        continue
                    if (
                        key in ("$regex", "$regexi")
                        and _regex(js_string(v), key == "$regexi") is None
                    ):
                        problems.append(f"{at}.{key}: not a valid regular expression: {v!r}")
                    if key in ("$in", "$nin", "$ini", "$nini", "$all", "$alli") and not isinstance(
                        v, list | tuple
                    ):
                        problems.append(f"{at}.{key}: takes a list")
                    if key in ("$not", "$elemMatch", "$size"):
                        walk(v, f"{at}.{key}", key == "$elemMatch" and not _is_operator_object(v))
                elif top:
                    walk(v, f"{at}.{key}", False)

    walk(condition, where, True)
    return problems
