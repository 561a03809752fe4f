"""Every registered format, on the same report: the invariants a new format must keep."""

from __future__ import annotations

import re

import pytest
from test_formats_text import sample_report

from zenpolicy.formats import FORMATS, RenderOptions, render

ANSI = re.compile(r"\x1b\[")


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("verbose", [False, True])
def test_format_invariants(name: str, verbose: bool) -> None:
    chunks = list(FORMATS[name](sample_report(), RenderOptions(verbose=verbose)))
    assert chunks and all(type(c) is bytes for c in chunks)
    text = render(name, sample_report(), RenderOptions(verbose=verbose))
    assert text == b"".join(chunks).decode("utf-8")
    for chunk in chunks:  # split between characters: each decodes on its own
        chunk.decode("utf-8")
    assert text.endswith("\n")
    assert text == render(name, sample_report(), RenderOptions(verbose=verbose)), "not deterministic"
    assert not ANSI.search(text), "colour without being asked"
    # Every failing and erroring finding is in every format, with its rule and location.
    for f in sample_report().findings:
        if str(f.status) in ("fail", "error"):
            assert f.rule_id in text
            assert str(f.location.line) in text
