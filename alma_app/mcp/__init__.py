"""ALMA over the Model Context Protocol: `python -m alma_app.mcp` (or `alma mcp`).

A thin adapter built on the official MCP SDK: every tool is one call into ALMA, ProgressTracker
or SessionManager. `alma_app.mcp.server.build_server(alma)` gives the MCPServer itself.
"""
