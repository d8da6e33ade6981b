from __future__ import annotations

import pytest

from tinylift import errors


def test_every_error_descends_from_the_root() -> None:
    classes = [getattr(errors, n) for n in errors.__all__ if isinstance(getattr(errors, n), type)]
    assert len(classes) == 10
    for cls in classes:
        assert issubclass(cls, errors.TinyliftError)
    # the web app answers a missing sign-in and a role that may not with these
    assert (errors.Unauthorized.http_status, errors.Forbidden.http_status) == (401, 403)


def test_validation_errors_become_one_error_naming_the_field() -> None:
    from pydantic import BaseModel, ValidationError

    class Row(BaseModel):
        unit_id: str
        value: float

    with pytest.raises(ValidationError) as caught:
        Row.model_validate({"unit_id": "u1", "value": "many"})
    err = errors.validation_error(caught.value, where="rows.csv, row 3", data=True)
    assert isinstance(err, errors.DataError)
    assert str(err).startswith("rows.csv, row 3, field 'value': ")
    config = errors.validation_error(caught.value)
    assert isinstance(config, errors.ConfigError)
    assert str(config).startswith("field 'value': ")


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.ConfigError, ValueError),
        (errors.DataError, ValueError),
        (errors.StatsError, ValueError),
        (errors.NotFound, LookupError),
    ],
)
def test_families_subclass_the_builtin_whose_meaning_fits(
    cls: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(cls, builtin)


def test_data_error_names_file_row_and_field() -> None:
    exc = errors.DataError("not a timestamp", file="events.csv", row=17, field="timestamp")
    assert str(exc) == "events.csv, row 17, field 'timestamp': not a timestamp"


def test_stats_error_names_metric_and_variant() -> None:
    exc = errors.StatsError("n must be at least 2", metric="revenue", variant="treatment")
    assert str(exc) == "metric 'revenue', variant 'treatment': n must be at least 2"


def test_config_error_names_the_parameter_once() -> None:
    assert str(errors.ConfigError("must be positive", parameter="users")) == (
        "users: must be positive"
    )
    assert str(errors.ConfigError("users: must be positive", parameter="users")) == (
        "users: must be positive"
    )


def test_http_statuses_distinguish_client_and_server_errors() -> None:
    assert errors.NotFound("x").http_status == 404
    assert errors.Conflict("x").http_status == 409
    assert errors.WarehouseError("x").http_status == 503
