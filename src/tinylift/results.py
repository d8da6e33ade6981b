"""One result protocol for every result type tinylift returns.

Every result (a comparison, an equivalence test, a power plan, an SRM test, a
decision, a scorecard, an analysis, a load report, a refresh) is an
immutable value with the same faces, as tea-tasting's results are:

- ``to_dict()``: JSON-ready;
- ``to_dicts()``: the rows a table shows (one row unless the result is a
  collection);
- ``to_arrow()`` and ``to_pandas()``: those rows as a table (pyarrow and
  pandas are imported only when asked for);
- ``_repr_html_()``: an HTML table for notebooks, built without pandas;
- a short ``repr``.

Arrays a result holds are read-only and its mappings immutable
(:func:`frozen_array`, :func:`frozen_mapping`).
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

__all__ = ["Result", "frozen_array", "frozen_mapping", "plain"]

#: At most this many rows in a notebook's HTML table.
HTML_ROWS = 50


def plain(value: Any) -> Any:
    """A JSON-ready copy: results by their ``to_dict``, arrays and mappings as lists and dicts."""
    if isinstance(value, Result):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return plain(value.tolist())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def frozen_array(values: Any) -> np.ndarray:
    """A read-only numpy array of ``values``."""
    import numpy as np

    out = np.array(values)
    out.setflags(write=False)
    return out


def frozen_mapping(values: Mapping[Any, Any] | None = None) -> Mapping[Any, Any]:
    """An immutable view of a copy of ``values``."""
    return MappingProxyType(dict(values or {}))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def _fields(obj: Any) -> tuple[dataclasses.Field[Any], ...]:
    """The dataclass fields of a result (every result is a dataclass)."""
    return dataclasses.fields(obj)


class Result:
    """The faces every result shares (a mixin for frozen dataclasses, ``repr=False``)."""

    __slots__ = ()
    #: Fields the short ``repr`` shows (the first three fields when empty).
    _repr_fields: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {f.name: plain(getattr(self, f.name)) for f in _fields(self)}

    def to_dicts(self) -> list[dict[str, Any]]:
        """The rows of the result as a table shows them."""
        return [self.to_dict()]

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table."""
        import pyarrow as pa

        rows = [{k: plain(v) for k, v in r.items()} for r in self.to_dicts()]
        return pa.Table.from_pylist(rows)

    def to_pandas(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.to_dicts())

    def _repr_html_(self) -> str:
        rows = self.to_dicts()
        columns = list(dict.fromkeys(k for r in rows for k in r))
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in columns) + "</tr>"
            for r in rows[:HTML_ROWS]
        )
        more = (
            f"<p>{len(rows) - HTML_ROWS} more rows: to_pandas() shows all</p>"
            if len(rows) > HTML_ROWS
            else ""
        )
        title = html.escape(type(self).__name__)
        return (
            f'<div class="tinylift-result"><strong>{title}</strong>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}</div>"
        )

    def __repr__(self) -> str:
        names = self._repr_fields or tuple(f.name for f in _fields(self))[:3]
        shown = []
        for name in names:
            text = repr(getattr(self, name))
            shown.append(f"{name}={text if len(text) <= 60 else text[:57] + '...'}")
        return f"{type(self).__name__}({', '.join(shown)})"
