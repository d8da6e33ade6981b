"""The exceptions tinylift raises, all under one root.

Every error a user can cause says *what* was wrong and *where* (file, row,
field, parameter), so the CLI and the web app can show it as one line instead
of a traceback. Families subclass the builtin whose meaning fits, so callers
that catch ``ValueError`` or ``LookupError`` keep working.

The tree::

    TinyliftError
    ├── ConfigError(ValueError)        bad settings, parameters, catalog files
    ├── DataError(ValueError)          bad input data: names file, row, field
    ├── StatsError(ValueError)         invalid statistics input: names metric, variant
    ├── WarehouseError                 the query engine failed or is unavailable
    ├── NotFound(LookupError)          an experiment, metric, team ... does not exist
    ├── Conflict                       duplicate key, invalid state transition
    ├── AnalysisError                  an analysis cannot be computed
    ├── Unauthorized                   not signed in, or a wrong password or key
    └── Forbidden                      signed in, but the role does not allow it

Each class carries ``http_status``, which the web app maps to a response.
Validation errors (Pydantic's) become one of these through
:func:`validation_error`, the one place that reads them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AnalysisError",
    "ConfigError",
    "Conflict",
    "DataError",
    "Forbidden",
    "NotFound",
    "StatsError",
    "TinyliftError",
    "Unauthorized",
    "WarehouseError",
    "describe_validation",
    "validation_error",
]


class TinyliftError(Exception):
    """Root of every error tinylift raises on purpose."""

    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(TinyliftError, ValueError):
    """A setting, parameter or configuration file is invalid."""

    http_status = 400

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        if parameter is not None and not message.startswith(parameter):
            message = f"{parameter}: {message}"
        super().__init__(message)
        self.parameter = parameter


class DataError(TinyliftError, ValueError):
    """Input data is malformed; the message names file, row and field."""

    http_status = 422

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                file,
                f"row {row}" if row is not None else None,
                f"field {field!r}" if field is not None else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file, self.row, self.field = file, row, field


class StatsError(TinyliftError, ValueError):
    """Statistics input is invalid; the message names the metric and variant."""

    http_status = 422

    def __init__(
        self, message: str, *, metric: str | None = None, variant: str | None = None
    ) -> None:
        where = ", ".join(
            part
            for part in (
                f"metric {metric!r}" if metric is not None else None,
                f"variant {variant!r}" if variant is not None else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.metric, self.variant = metric, variant


class WarehouseError(TinyliftError):
    """The query engine failed or is unavailable."""

    http_status = 503


class NotFound(TinyliftError, LookupError):
    """A named object (experiment, metric, team ...) does not exist."""

    http_status = 404


class Conflict(TinyliftError):
    """A duplicate key or a transition the current state does not allow."""

    http_status = 409


class AnalysisError(TinyliftError):
    """An analysis cannot be computed from the data at hand."""

    http_status = 422


class Unauthorized(TinyliftError):
    """Not signed in, or a wrong password or API key."""

    http_status = 401


class Forbidden(TinyliftError):
    """Signed in, but this person's role (or team) does not allow the action."""

    http_status = 403


def describe_validation(exc: Any, *, drop: tuple[str, ...] = ()) -> tuple[str | None, str]:
    """The field path and the message of a Pydantic ``ValidationError``'s first problem.

    ``drop`` names leading path parts that are no field of the user's (the tag
    of a tagged union, such as a metric's ``type``).
    """
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    if loc and loc[0] in drop:
        loc = loc[1:]
    if loc and loc[-1] == "[key]":  # a bad mapping key: name the mapping
        loc = loc[:-2]
    message = str(err["msg"]).removeprefix("Value error, ")
    return (".".join(loc) or None), message


def validation_error(
    exc: Any,
    *,
    where: str | None = None,
    data: bool = False,
    drop: tuple[str, ...] = (),
) -> ConfigError | DataError:
    """One error, naming where and which field, from a Pydantic ``ValidationError``.

    ``where`` says what was being read (a file, an experiment, a request);
    ``data`` makes it a :class:`DataError` (bad input data) instead of a
    :class:`ConfigError` (bad settings, parameters or definitions).
    """
    field, message = describe_validation(exc, drop=drop)
    parts = [p for p in (where, f"field {field!r}" if field else None) if p]
    text = f"{', '.join(parts)}: {message}" if parts else message
    return DataError(text) if data else ConfigError(text)
