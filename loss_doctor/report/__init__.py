"""Renderers of a check's result: text for people, JSON for tools.

Reporters know nothing of statistics: they get ranked findings, the runs
inventory and the read errors, and lay them out.
"""
