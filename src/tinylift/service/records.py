"""Use cases of the record beside the numbers: anecdotes and learnings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinylift.registry import AnecdotePublic
    from tinylift.service.workspace import Workspace

__all__ = ["add_anecdote", "add_learning", "anecdotes", "search_learnings"]


def add_anecdote(ws: Workspace, key: str, anecdote: dict[str, Any]) -> None:
    """Record an anecdote about an experiment (text, source, sentiment, variant, link)."""
    from tinylift.registry import add_anecdote as add

    with ws.registry() as reg, reg.session() as s:
        add(s, key=key, anecdote=anecdote)


def anecdotes(ws: Workspace, key: str) -> list[AnecdotePublic]:
    """An experiment's anecdotes."""
    from tinylift.registry import AnecdotePublic, anecdotes_of

    with ws.registry() as reg, reg.session() as s:
        return [AnecdotePublic.model_validate(a) for a in anecdotes_of(s, key=key)]


def add_learning(
    ws: Workspace,
    text: str,
    *,
    tags: list[str] | None = None,
    key: str | None = None,
    by: str | None = None,
) -> None:
    """Record a learning (optionally from an experiment)."""
    from tinylift.registry import add_learning as add

    with ws.registry() as reg, reg.session() as s:
        add(s, text=text, tags=tags or [], key=key, recorded_by=by)


def search_learnings(ws: Workspace, text: str) -> list[dict[str, Any]]:
    """Learnings whose text, tags or experiment hold every word of ``text``."""
    from tinylift.registry import search_learnings as search

    with ws.registry() as reg, reg.session() as s:
        return [
            {
                "text": lr.text,
                "tags": lr.tags,
                "experiment": key,
                "created_at": lr.created_at.isoformat(),
            }
            for lr, key in search(s, text=text)
        ]
