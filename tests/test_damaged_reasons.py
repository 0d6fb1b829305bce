"""Mutagen's words never reach the user (round 3 polish item 4): files damaged the ways mutagen
reports as "framing bit was unset", "Stream info block not found", "file is not a valid Vorbis
comment", "no appropriate stream found", "file said N bytes, read M bytes", "not a MP4 file"...
are refused (read, write, scan) with a plain reason about the file, and no reason contains any
sentence mutagen itself raises."""

from __future__ import annotations

import io
import re
from pathlib import Path

import mutagen
import pytest
from media import ffmpeg_available, make_audio
from mutagen.ogg import OggPage

from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.tagging import TagError, read_tags, write_genres
from genre_desktop.tagging.reasons import damaged


def _mutagen_sentences() -> set[str]:
    """The fixed text of every message mutagen raises (the parts between its %-placeholders)."""
    found = set()
    for source in Path(mutagen.__file__).parent.rglob("*.py"):
        for literal in re.findall(r'raise \w+(?:\.\w+)*\(\s*"([^"]+)"', source.read_text("utf-8")):
            found.update(part.strip(" .,:;'") for part in re.split(r"%\w|%r", literal))
    return {s for s in found if len(s) >= 8 and " " in s}


MUTAGEN = _mutagen_sentences()


def _ogg_rewritten(path: Path, change) -> Path:
    """Rewrite an Ogg file page by page, ``change(index, page)`` altering packets (CRCs recomputed)."""
    data, out, index = io.BytesIO(path.read_bytes()), bytearray(), 0
    while data.tell() < len(data.getvalue()):
        page = OggPage(data)
        change(index, page)
        out += page.write()
        index += 1
    path.write_bytes(bytes(out))
    return path


def vorbis_framing_unset(path: Path) -> Path:
    def clear(index, page):
        for i, packet in enumerate(page.packets):
            if packet.startswith(b"\x03vorbis"):  # the framing bit follows the comments (padding may follow)
                at = 7 + 4 + int.from_bytes(packet[7:11], "little")
                count, at = int.from_bytes(packet[at:at + 4], "little"), at + 4
                for _ in range(count):
                    at += 4 + int.from_bytes(packet[at:at + 4], "little")
                page.packets[i] = packet[:at] + b"\x00" + packet[at + 1:]
    return _ogg_rewritten(make_audio(path, seconds=0.5, tags={"genre": "Rock"}), clear)


def vorbis_comment_garbled(path: Path) -> Path:
    def garble(index, page):
        for i, packet in enumerate(page.packets):
            if packet.startswith(b"\x03vorbis"):  # a vendor length far beyond the packet
                page.packets[i] = packet[:7] + b"\xff\xff\xff\x7f" + packet[11:]
    return _ogg_rewritten(make_audio(path, seconds=0.5, tags={"genre": "Rock"}), garble)


def opus_unknown_stream(path: Path) -> Path:
    def rename(index, page):
        page.packets = [p.replace(b"OpusHead", b"OpusXead") for p in page.packets]
    return _ogg_rewritten(make_audio(path, seconds=0.5), rename)


def flac_without_streaminfo(path: Path) -> Path:
    b = bytearray(make_audio(path, seconds=0.5, tags={"genre": "Rock"}).read_bytes())
    b[4] = (b[4] & 0x80) | 2  # the first metadata block claims to be an APPLICATION block
    path.write_bytes(bytes(b))
    return path


def flac_cut_in_its_tags(path: Path) -> Path:
    make_audio(path, seconds=0.5, tags={"genre": "Rock", "title": "x" * 3000})
    path.write_bytes(path.read_bytes()[:200])  # inside the Vorbis comment block
    return path


def m4a_without_moov(path: Path) -> Path:
    path.write_bytes(make_audio(path, seconds=0.5).read_bytes().replace(b"moov", b"free"))
    return path


def wma_cut(path: Path) -> Path:
    path.write_bytes(make_audio(path, seconds=0.5).read_bytes()[:100])
    return path


CASES = {
    "a.ogg": (vorbis_framing_unset, "damaged Ogg file: its Vorbis header is malformed"),
    "b.ogg": (vorbis_comment_garbled, "damaged Ogg file: its tag block (Vorbis comment) is malformed"),
    "c.opus": (opus_unknown_stream, "not an audio file: header not recognised"),
    "d.flac": (flac_without_streaminfo, "damaged FLAC file: no STREAMINFO block, which describes its audio"),
    "e.flac": (flac_cut_in_its_tags, "damaged FLAC file: a metadata block claims more than the file holds"),
    "f.m4a": (m4a_without_moov, "damaged M4A file: it has no movie header (moov atom), which describes its audio"),
    "g.wma": (wma_cut, "damaged WMA file: it is cut short: part of the file is missing"),
}
FFMPEG_ONLY = {".m4a", ".wma"}


def raw_phrases(reason: str) -> list[str]:
    return [s for s in MUTAGEN if s.lower() in reason.lower()]


def test_the_sentences_checked_include_those_users_met():
    for met in ("framing bit was unset", "Stream info block not found", "file is not a valid Vorbis comment", "file said"):
        assert raw_phrases(f"damaged: {met}"), met


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_damaged_file_gets_a_plain_reason_on_read_write_and_scan(tmp_path, name):
    if Path(name).suffix in FFMPEG_ONLY and not ffmpeg_available():
        pytest.skip("ffmpeg not installed")
    make, expected = CASES[name]
    path = make(tmp_path / name)
    reasons = []
    for call in (lambda: read_tags(path), lambda: write_genres(path, ["Jazz"])):
        with pytest.raises(TagError) as info:
            call()
        reasons.append(info.value.reason)
    assert reasons[0] == expected, reasons[0]
    with Store.open(tmp_path / "lib.json") as store:
        summary = scan_paths([str(path)], store)
        reasons += [r for _, r in summary.unreadable]
        track = store.get(str(path))
        reasons += [track.error] if track is not None and track.error else []
    assert len(reasons) >= 3 and any(expected in r for r in reasons[2:]), reasons
    for reason in reasons:
        assert not raw_phrases(reason), (reason, raw_phrases(reason))


def test_no_sentence_mutagen_raises_reaches_the_user_as_it_is(tmp_path):
    """Every message mutagen can raise, as its own exception would carry it: the reason is ours
    (reworded where we know what it means, else "its structure cannot be read")."""
    path = make_audio(tmp_path / "a.flac", seconds=0.2)
    for sentence in sorted(MUTAGEN):
        reason = damaged(mutagen.MutagenError(sentence), path)
        assert reason.startswith("damaged FLAC file: ") and not raw_phrases(reason), (sentence, reason)
    assert damaged(mutagen.MutagenError("> 1 SeekTable block found"), path) == (
        "damaged FLAC file: it has more than one SeekTable block")
