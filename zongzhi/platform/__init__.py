"""The core, in layers that import downwards only (README "Architecture"; pyproject's import-linter
contracts): wiring > schema > rules, pipeline > services, stats, reports, imports > domain > models >
base. ``hookspecs`` and ``partners`` are the public plugin API beside them."""
