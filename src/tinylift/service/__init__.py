"""The use cases the CLI and the web app both call, on a :class:`Workspace`.

A command or a route is: parse, one call here, render. Modules by use case:
``experiments`` (create, start, stop, list, show, import, export, SDK
configuration), ``analysis`` (analyse, refresh, decide), ``reports`` (what a
report shows), ``data`` (ingest), ``records`` (anecdotes, learnings),
``owner`` (the one process that owns the embedded warehouse), ``workspace``.
"""

from tinylift.service.workspace import Workspace, find_workspace

__all__ = ["Workspace", "find_workspace"]
