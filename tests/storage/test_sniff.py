"""Type allow-list and sniffing the real type from a file's first bytes."""

from __future__ import annotations

import pytest

from tests.storage.storage_samples import JPEG, MP4_HEAD, OLE_HEADER, docx, pdf, png
from zongzhi.storage.sniff import OOXML, check_declared, detect_type, is_allowed


@pytest.mark.parametrize(
    ("declared", "data"),
    [
        ("image/png", png()),
        ("application/pdf", pdf()),
        ("image/jpeg", JPEG),
        ("image/jpg", JPEG),
        ("IMAGE/JPEG; charset=binary", JPEG),
        (f"{OOXML}.wordprocessingml.document", docx()),
        (f"{OOXML}.spreadsheetml.sheet", docx()),
        ("application/msword", OLE_HEADER),
        ("application/vnd.ms-excel", OLE_HEADER),
        ("video/mp4", MP4_HEAD),
        ("audio/x-m4a", MP4_HEAD),
        ("audio/amr", b"#!AMR\n" + b"\x00" * 32),
        ("text/plain", "派出所接警记录：2024年5月1日\n".encode()),
        ("text/plain", "接警记录".encode("gb18030")),
    ],
)
def test_real_files_are_accepted(declared, data):
    assert check_declared(declared, data[:4096]) is None


def test_text_cut_inside_a_character_is_still_text():
    assert check_declared("text/plain", "记录".encode()[:-1]) is None


def test_png_declared_as_pdf_is_refused_and_says_why():
    reason = check_declared("application/pdf", png())
    assert reason is not None
    assert "image/png" in reason and "application/pdf" in reason


@pytest.mark.parametrize(
    ("declared", "data"),
    [
        ("image/jpeg", docx()),
        ("image/png", JPEG),
        ("text/plain", png()),
        ("video/mp4", pdf()),
        ("image/heic", MP4_HEAD),
        (f"{OOXML}.wordprocessingml.document", OLE_HEADER),
    ],
)
def test_mismatches_are_refused(declared, data):
    assert check_declared(declared, data) is not None


def test_unrecognisable_bytes_are_refused():
    reason = check_declared("application/pdf", b"\x00\x01\x02\x03" * 8)
    assert reason is not None and "could not be recognised" in reason


@pytest.mark.parametrize("declared", ["application/x-msdownload", "text/html", "application/zip", ""])
def test_types_off_the_allow_list_are_refused(declared):
    assert not is_allowed(declared)
    assert "allow-list" in (check_declared(declared, b"MZ\x90\x00") or "")


def test_detect_type():
    assert detect_type(png()) == "image/png"
    assert detect_type(pdf()) == "application/pdf"
    assert detect_type(JPEG) == "image/jpeg"
    assert detect_type(docx()) == "application/zip"
    assert detect_type(b"") is None
