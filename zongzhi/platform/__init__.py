"""The core, in layers that import downwards only (README "Architecture"; pyproject's import-linter
contracts): wiring > readpath > schema > rules, pipeline > services, stats, reports, imports > domain >
models > base. ``hookspecs`` and ``plugin_api`` are the public plugin API beside them (``partners``
holds the docking helpers ``plugin_api`` offers)."""
