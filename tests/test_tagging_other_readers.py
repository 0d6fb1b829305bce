"""What other readers see after our write and our undo: TagLib (pytaglib) and beets' mediafile
must read the same genre values, with the same count, as the file held before (issue 10); and the
genres and styles we write reach TagLib, mediafile and ffprobe in every container (issue 20)."""

from __future__ import annotations

import shutil
from pathlib import Path

import mutagen
import pytest
from media import FORMATS, make_audio
from mutagen.flac import FLAC
from mutagen.id3 import TCON
from tag_readers import ffprobe_tags, mediafile_fields, taglib_props

from genre_desktop.library.journal import Journal
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
from genre_desktop.tagging import WriteOptions, read_tags, write_fields

taglib = pytest.importorskip("taglib")
mediafile = pytest.importorskip("mediafile")


def taglib_genres(path) -> list[str]:
    with taglib.File(str(path)) as f:
        return list(f.tags.get("GENRE", []))


def mediafile_genres(path) -> list[str]:
    return list(mediafile.MediaFile(str(path)).genres or [])


def write_then_undo(tmp_path, path, options):
    store = Store.open(tmp_path / "library.json")
    scan_paths([str(path)], store, options)
    service = TagService(store, Journal(tmp_path / "journal.jsonl"), options)
    written = service.write({str(path): ["Fuzz", "Noise"]})
    assert all(r.ok for r in written), [r.error for r in written]
    seen_written = (taglib_genres(path), mediafile_genres(path))
    undone = service.undo()
    assert undone and all(r.ok for r in undone), [r.error for r in undone]
    service.journal.close()
    store.close()
    return seen_written


@pytest.mark.parametrize("id3_version", [3, 4])
def test_id3v23_multi_value_tcon_comes_back_the_same_to_taglib_and_mediafile(tmp_path, id3_version):
    path = make_audio(tmp_path / "old.mp3", seconds=0.5, tags={"title": "T"})
    audio = mutagen.File(path)
    audio.tags.add(TCON(encoding=1, text=["Rock", "Pop"]))
    audio.tags.update_to_v23()
    audio.save(v2_version=3, v23_sep=None)
    before = (taglib_genres(path), mediafile_genres(path))
    assert before[0] == ["Rock", "Pop"]
    written = write_then_undo(tmp_path, path, WriteOptions(id3_version=id3_version))
    if id3_version == 4:
        assert written == (["Fuzz", "Noise"], ["Fuzz", "Noise"])
    assert (taglib_genres(path), mediafile_genres(path)) == before
    assert mutagen.File(path).tags.version[:2] == (2, 3)


@pytest.mark.parametrize("ext", [e for e in (".flac", ".ogg", ".opus") if e in FORMATS])
def test_vorbis_multi_value_genre_comes_back_the_same_to_taglib_and_mediafile(tmp_path, ext):
    path = make_audio(tmp_path / f"a{ext}", seconds=0.5, tags={"title": "T", "genre": ["Rock", "Drum; Bass", "Pop"]})
    before = (taglib_genres(path), mediafile_genres(path))
    assert before[0] == ["Rock", "Drum; Bass", "Pop"]
    written = write_then_undo(tmp_path, path, WriteOptions())
    assert written == (["Fuzz", "Noise"], ["Fuzz", "Noise"])
    assert (taglib_genres(path), mediafile_genres(path)) == before


def test_a_nul_inside_a_vorbis_genre_comes_back_byte_for_byte(tmp_path):
    path = make_audio(tmp_path / "nul.flac", seconds=0.5, tags={"title": "T"})
    audio = FLAC(path)
    audio.tags["GENRE"] = ["Rock\x00Live", "Jazz"]
    audio.save()
    before = taglib_genres(path)
    write_then_undo(tmp_path, path, WriteOptions())
    assert FLAC(path).tags["genre"] == ["Rock\x00Live", "Jazz"]
    assert taglib_genres(path) == before


# ----------------------------------------------------------------------------- the style field (issue 20 item 5)
FIXTURES = Path(__file__).parent / "data" / "tagging"
FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if p.suffix != ".json")
STYLES = ["Boom Bap", "Jazz Rap"]


@pytest.fixture(params=FIXTURE_NAMES)
def tagged(request, tmp_path):
    path = tmp_path / request.param
    shutil.copyfile(FIXTURES / request.param, path)
    return path


def one_value_form(path) -> bool:
    """Whether the file's ID3 tag is (or, written now, becomes) one value per frame (v2.3)."""
    return path.suffix in (".mp3", ".wav", ".aiff") and read_tags(path).id3_version in (None, 2, 3)


def test_genres_and_styles_reach_taglib_mediafile_and_ffprobe(tagged):
    write_fields(tagged, {"genre": ["Hip-Hop", "Jazz"], "style": STYLES})
    joined = one_value_form(tagged)
    genres = ["Hip-Hop; Jazz" if "wav" in tagged.name else "Hip-Hop/Jazz"] if joined else ["Hip-Hop", "Jazz"]
    styles = ["Boom Bap; Jazz Rap"] if joined else STYLES
    props = taglib_props(tagged)
    if tagged.suffix == ".wma":
        # TagLib has no STYLE property for ASF, and reads several values of one attribute in
        # another order than stored; mutagen, mediafile and ffprobe keep the stored order.
        assert sorted(props["GENRE"]) == sorted(genres) and "STYLE" not in props
    else:
        assert props["GENRE"] == genres and props["STYLE"] == styles
    seen = mediafile_fields(tagged)
    assert seen["genres"] == genres and seen["styles"] == styles
    probed = ffprobe_tags(tagged)
    assert probed["genre"].split(";")[0] == genres[0].split(";")[0]  # ffprobe shows the first value (FLAC: all)
    if tagged.suffix == ".wav":  # ffmpeg ignores a WAV's ID3 chunk when it has an INFO list (no style there)
        assert "style" not in probed and probed["title"] == "Song Title"
    else:
        assert probed["style"].split(";")[0] == styles[0].split(";")[0]
    assert read_tags(tagged).styles == STYLES


def test_styles_can_go_to_grouping_where_mediafile_taglib_and_ffprobe_read_it(tagged):
    options = WriteOptions(style_field="grouping")
    before = read_tags(tagged)
    write_fields(tagged, {"genre": ["Hip-Hop"], "style": STYLES}, options)
    assert read_tags(tagged, options).styles == STYLES  # read back from GROUPING
    assert read_tags(tagged).styles == before.styles  # STYLE itself untouched
    assert read_tags(tagged).grouping == "Boom Bap; Jazz Rap"  # GROUPING holds one value
    assert mediafile_fields(tagged)["grouping"] == "Boom Bap; Jazz Rap"  # ID3 TIT1, ©grp, GROUPING, WM/...
    props = taglib_props(tagged)
    # TagLib: GRP1 / ©grp / GROUPING as GROUPING; ID3's TIT1 and ASF's WM/ContentGroupDescription as WORK
    if tagged.suffix == ".wma":
        assert props["WORK"] == ["Boom Bap; Jazz Rap"]
    else:
        assert props["GROUPING"] == ["Boom Bap; Jazz Rap"]
    probed = ffprobe_tags(tagged)
    key = "wm/contentgroupdescription" if tagged.suffix == ".wma" else "grouping"
    if tagged.suffix != ".wav":  # (ffmpeg reads a WAV's INFO list, not its ID3 chunk)
        assert probed[key] == "Boom Bap; Jazz Rap"
