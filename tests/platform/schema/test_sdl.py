"""``schema.graphql`` is the published contract: the core and built-in plugins as the code serves them."""

from pathlib import Path

from zongzhi.platform.base.settings import Settings
from zongzhi.platform.pipeline import plugin_host as plugins
from zongzhi.platform.wiring.app import build_app_schema

SDL_FILE = Path(__file__).parents[3] / "schema.graphql"


def test_schema_graphql_matches_the_code():
    settings = Settings.from_env({}, secret_key="sdl")
    served = build_app_schema(settings, plugins.load(settings, builtin_only=True)).as_str() + "\n"
    assert SDL_FILE.read_text(encoding="utf-8") == served, (
        "schema.graphql is out of date: run `zongzhi schema export` and commit the result"
    )


def test_enum_values_carry_chinese_labels():
    sdl = SDL_FILE.read_text(encoding="utf-8")
    assert '"""已受理"""\n  RECEIVED' in sdl
    assert '"""联办"""\n  JOINT' in sdl
