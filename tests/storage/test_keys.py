"""Object keys never carry user-supplied path segments unescaped."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from zongzhi.storage.keys import MAX_SLUG_CHARS, evidence_key, slug, validate_key

KEY = re.compile(r"^cases/[A-Za-z0-9._%-]+/[0-9a-f]{32}/[A-Za-z0-9._%-]+$")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("photos/2024/scene.jpg", "scene.jpg"),
        ("..", "file"),
        (".", "file"),
        ("", "file"),
        ("/", "file"),
        (".bashrc", "bashrc"),
        ("a..b.png", "a.b.png"),
        ("bad\x00name\r\n.pdf", "badname.pdf"),
        ("100%.txt", "100%25.txt"),
        ("report final.pdf", "report%20final.pdf"),
        ("trailing dots...", "trailing%20dots"),
    ],
)
def test_slug(name, expected):
    assert slug(name) == expected


def test_chinese_filename_is_percent_encoded_and_reversible():
    name = "现场照片（一）.jpg"
    encoded = slug(name)
    assert encoded.isascii()
    assert unquote(encoded) == name


def test_long_names_are_cut_without_breaking_escapes_or_the_extension():
    encoded = slug("调" * 200 + ".docx")
    assert len(encoded) <= MAX_SLUG_CHARS
    assert encoded.endswith(".docx")
    assert unquote(encoded, errors="strict").endswith(".docx")
    assert re.fullmatch(r"(%[0-9A-F]{2})+\.docx", encoded)


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b/c.txt", "现场.png", "\x00", "..", "%2e%2e%2f"])
def test_evidence_key_shape(name):
    key = evidence_key(123, name)
    assert KEY.match(key), key
    assert key.count("/") == 3
    assert validate_key(key) == key


def test_case_id_is_escaped_too():
    key = evidence_key("../x", "a.png")
    assert key.split("/")[1] == "x"
    assert validate_key(key)


def test_keys_are_unique():
    assert evidence_key(1, "a.png") != evidence_key(1, "a.png")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/abs",
        "cases/../x",
        "cases/./x",
        "cases//x",
        "cases/.hidden",
        "cases/a\\b",
        "cases/a\x00b",
        "x" * 1025,
    ],
)
def test_validate_key_refuses(key):
    with pytest.raises(ValueError):
        validate_key(key)
