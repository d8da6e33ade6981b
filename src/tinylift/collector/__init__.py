"""The event collector: accepts batches over HTTP, durable before it answers."""

from tinylift.collector.app import create_collector
from tinylift.collector.spool import Spool

__all__ = ["Spool", "create_collector"]
