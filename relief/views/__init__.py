"""The caseworker pages: home, case list, intake, case page, correction and attachments.

Every page reads through relief.selectors (scoped: a case outside the user's union subtree
is 404) and writes through relief.services only.
"""
