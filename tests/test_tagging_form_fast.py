"""``keeps_its_form`` (the write preview's fast path) never hides a note ``describe_write`` would
give: every committed fixture, every ID3 version setting, one genre or several, with styles to
STYLE or GROUPING; and it really answers from the first bytes for the common MP3."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from genre_desktop.tagging import WriteOptions, describe_write, keeps_its_form, read_tags

FIXTURES = Path(__file__).parent / "data" / "tagging"
NAMES = sorted(p.name for p in FIXTURES.iterdir() if p.suffix != ".json")
OPTIONS = [WriteOptions(id3_version=v, style_field=f) for v, f in itertools.product(("keep", 3, 4), ("style", "grouping"))]
VALUES = [{"genre": ["Jazz"]}, {"genre": ["Jazz", "Soul"]}, {"genre": ["Jazz"], "style": ["Bebop"]}]


@pytest.mark.parametrize("name", NAMES)
def test_the_fast_answer_agrees_with_the_full_description(name):
    fmt = read_tags(FIXTURES / name).format
    for options, values in itertools.product(OPTIONS, VALUES):
        if keeps_its_form(FIXTURES / name, fmt, options, values):
            assert describe_write(FIXTURES / name, options, values) == [], (name, options, values)


def test_the_common_mp3_is_answered_from_its_first_bytes(tmp_path, monkeypatch):
    path = tmp_path / "a.mp3"
    shutil.copyfile(FIXTURES / "mp3_v23.mp3", path)
    import genre_desktop.tagging.describe as describe

    monkeypatch.setattr(describe, "read_tags", lambda *a, **k: pytest.fail("the tags were read"))
    assert keeps_its_form(path, "mp3", WriteOptions(), {"genre": ["Jazz", "Soul"]})
    assert not keeps_its_form(path, "mp3", WriteOptions(id3_version=4), {"genre": ["Jazz"]})  # a conversion
    assert not keeps_its_form(FIXTURES / "mp3_v22.mp3", "mp3", WriteOptions(), {"genre": ["Jazz"]})
    assert not keeps_its_form(FIXTURES / "wav.wav", "wav", WriteOptions(), {"genre": ["Jazz"]})
    assert keeps_its_form(FIXTURES / "flac.flac", "flac", WriteOptions(), {"genre": ["Jazz"]})
    assert not keeps_its_form(FIXTURES / "flac.flac", "flac", WriteOptions(style_field="grouping"),
                              {"genre": ["Jazz"], "style": ["Bebop"]})
    assert not keeps_its_form(tmp_path / "gone.mp3", "mp3", WriteOptions(), {"genre": ["Jazz"]})
