"""Memories: the five types, their repository, search, retrieval, learning, review,
forgetting and transfer. Imports only the shared ground (alma_app.checks, config, ...) and store."""
