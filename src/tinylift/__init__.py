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


def __getattr__(name: str) -> object:
    # The SDK client pulls in httpx and numpy: imported on first use only.
    if name == "Client":
        from tinylift.sdk import Client

        return Client
    raise AttributeError(name)


__all__ = [
    "AnalysisError",
    "Client",
    "ConfigError",
    "Conflict",
    "DataError",
    "NotFound",
    "StatsError",
    "TinyliftError",
    "WarehouseError",
    "__version__",
]
