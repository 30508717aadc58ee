"""Dockyard: a REST service that manages Docker containers over HTTP."""
