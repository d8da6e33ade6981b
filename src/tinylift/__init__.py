"""tinylift: experimentation for teams that grow by many small experiments."""

from tinylift.errors import (
    AnalysisError,
    ConfigError,
    Conflict,
    DataError,
    NotFound,
    StatsError,
    TinyliftError,
    WarehouseError,
)

__version__ = "0.1.0"

__all__ = [
    "AnalysisError",
    "ConfigError",
    "Conflict",
    "DataError",
    "NotFound",
    "StatsError",
    "TinyliftError",
    "WarehouseError",
    "__version__",
]
