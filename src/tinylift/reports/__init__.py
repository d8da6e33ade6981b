"""Reports people can keep and share: one self-contained HTML file per experiment."""

from tinylift.reports.html import effect_figure, over_time_figure, render_report

__all__ = ["effect_figure", "over_time_figure", "render_report"]
