"""The canonical data model: exposures and events (see docs/data-model.md)."""

from __future__ import annotations

from typing import Final

import pyarrow as pa

__all__ = ["EVENTS_SCHEMA", "EXPOSURES_SCHEMA", "MARKETS_SCHEMA", "UNITS_SCHEMA"]

_TS: Final = pa.timestamp("us", tz="UTC")

#: Who saw which variant of which experiment, and when.
EXPOSURES_SCHEMA: Final = pa.schema(
    [
        pa.field("experiment_key", pa.string(), nullable=False),
        pa.field("variant_key", pa.string(), nullable=False),
        pa.field("unit_id", pa.string(), nullable=False),
        pa.field("timestamp", _TS, nullable=False),
        pa.field("country", pa.string()),
        pa.field("platform", pa.string()),
        # anything else known about the unit at exposure, as a JSON object
        # (a legislator's party, a customer's tier): breakdowns by any of it
        pa.field("attributes", pa.string()),
    ]
)

#: Facts about units: pageviews, purchases, returns ...
EVENTS_SCHEMA: Final = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("unit_id", pa.string(), nullable=False),
        pa.field("timestamp", _TS, nullable=False),
        pa.field("event_name", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("properties", pa.string()),
    ]
)

#: What is known about units, loaded any time after their exposures: each row
#: holds attributes (a JSON object) as of a time (null: always). A breakdown
#: takes the latest row at or before the unit's entry, so a later change
#: (perhaps caused by the experiment) never moves a unit between segments.
#: Market-level series (market tests): one metric's value per market and period (the
#: period's first day); what describes the market (country, region ...) as a JSON object.
MARKETS_SCHEMA: Final = pa.schema(
    [
        pa.field("market", pa.string(), nullable=False),
        pa.field("period", pa.date32(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("attributes", pa.string()),
    ]
)

UNITS_SCHEMA: Final = pa.schema(
    [
        pa.field("unit_id", pa.string(), nullable=False),
        pa.field("as_of", _TS),
        pa.field("attributes", pa.string(), nullable=False),
    ]
)
