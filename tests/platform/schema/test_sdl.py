"""``schema.graphql`` is the published contract: it must match what the code serves."""

from pathlib import Path

from zongzhi.platform.schema import build_schema
from zongzhi.platform.settings import Settings

SDL_FILE = Path(__file__).parents[3] / "schema.graphql"


def test_schema_graphql_matches_the_code():
    served = build_schema(Settings.from_env({}, secret_key="sdl")).as_str() + "\n"
    assert SDL_FILE.read_text(encoding="utf-8") == served, (
        "schema.graphql is out of date: run `zongzhi schema export` and commit the result"
    )


def test_enum_values_carry_chinese_labels():
    sdl = SDL_FILE.read_text(encoding="utf-8")
    assert '"""已受理"""\n  received' in sdl
    assert '"""联办"""\n  joint' in sdl
