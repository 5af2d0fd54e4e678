"""诉调对接: courts refer pre-litigation disputes to the centers and get the outcome back.

Registered as the ``court_docking`` entry point in the project's own ``pyproject.toml``, exactly as a
partner's package would register its plugin.
"""
