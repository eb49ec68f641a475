"""The agent harness and domain schemas: a client of ALMA, like the CLI."""

from alma_app.harness.harness import Agent, Context, MemorySchema, Setting, Tool, create_harness

__all__ = ["Agent", "Context", "MemorySchema", "Setting", "Tool", "create_harness"]
