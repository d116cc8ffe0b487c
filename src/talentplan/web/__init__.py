"""The what-if page of ``talentplan serve`` (see :mod:`talentplan.web.app`).

Modules: ``app`` (the FastAPI application and its routes), ``security`` (loopback and
token), ``store`` (the scenarios folder), ``jobs`` (solves in worker processes),
``forms`` (fields to a validated scenario), ``compare`` (plans side by side).
"""
