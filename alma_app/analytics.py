"""Kept for imports written before the dashboard's queries were merged into alma_app.insights."""

from alma_app.insights import USERS, agent_counts, memory_growth, recent_activity

__all__ = ["USERS", "agent_counts", "memory_growth", "recent_activity"]
