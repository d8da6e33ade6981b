"""The system of record: experiments, snapshots, decisions, anecdotes, learnings.

SQLAlchemy 2 models, Alembic migrations, and repository functions that take a
session first and everything else by keyword.
"""

from tinylift.registry.db import Registry
from tinylift.registry.edits import changes_of, delete_experiment, edit_experiment
from tinylift.registry.experiments import (
    create_experiment,
    create_team,
    create_user,
    get_experiment,
    get_team,
    list_experiments,
    list_teams,
    list_users,
    start_experiment,
    stop_experiment,
)
from tinylift.registry.records import (
    add_anecdote,
    add_learning,
    add_snapshot,
    anecdotes_of,
    decide,
    decision_of,
    get_snapshot,
    latest_snapshot,
    search_learnings,
    snapshots_of,
)
from tinylift.registry.schemas import (
    AnecdoteCreate,
    AnecdotePublic,
    DecisionPublic,
    ExperimentCreate,
    ExperimentPublic,
    LearningPublic,
    SnapshotPublic,
)
from tinylift.registry.slices import registry_sdk_config

__all__ = [
    "AnecdoteCreate",
    "AnecdotePublic",
    "DecisionPublic",
    "ExperimentCreate",
    "ExperimentPublic",
    "LearningPublic",
    "Registry",
    "SnapshotPublic",
    "add_anecdote",
    "add_learning",
    "add_snapshot",
    "anecdotes_of",
    "changes_of",
    "create_experiment",
    "create_team",
    "create_user",
    "decide",
    "decision_of",
    "delete_experiment",
    "edit_experiment",
    "get_experiment",
    "get_snapshot",
    "get_team",
    "latest_snapshot",
    "list_experiments",
    "list_teams",
    "list_users",
    "registry_sdk_config",
    "search_learnings",
    "snapshots_of",
    "start_experiment",
    "stop_experiment",
]
