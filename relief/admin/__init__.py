"""The reviewers' admin: town reviewers and district officers do their work here.

Every list, form, filter, autocomplete and export is scoped to the user's union subtree, and
every change goes through relief.services (the same functions as the caseworkers' pages).
"""

from relief.admin import advances, applications, config, meetings, notices, workers

__all__ = ["advances", "applications", "config", "meetings", "notices", "workers"]
