"""Market-level tests: changes rolled out to whole markets (packaging, retail, pricing).

:mod:`.series` reads and checks market series; :mod:`.spec` the tests as
written down; :mod:`.design` chooses markets and simulates power on the
history; :mod:`.analyze` makes a test's scorecard with the estimators of
:mod:`tinylift.stats.markets` and the decision rule of user-level tests.
"""

from tinylift.markets.analyze import MarketReport, MarketRow, analyze_market_test
from tinylift.markets.design import Design, design_test, stratified_assignment
from tinylift.markets.series import MarketSeries, read_series, write_series
from tinylift.markets.spec import MarketTest, MarketTests, parse_tests

__all__ = [
    "Design",
    "MarketReport",
    "MarketRow",
    "MarketSeries",
    "MarketTest",
    "MarketTests",
    "analyze_market_test",
    "design_test",
    "parse_tests",
    "read_series",
    "stratified_assignment",
    "write_series",
]
