"""Every figure's definition is written where users read it: the README and the schema."""

from pathlib import Path

from zongzhi.platform.stats import definitions

ROOT = Path(__file__).parents[3]


def test_readme_gives_every_definition() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, text in definitions.ALL.items():
        assert f"- `{name}`: {text}" in readme, name


def test_schema_describes_the_rates() -> None:
    sdl = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    for text in (definitions.RESOLUTION_RATE, definitions.CLOSURE_RATE, definitions.ON_TIME_RATE):
        assert text in sdl
