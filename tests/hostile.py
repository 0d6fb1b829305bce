"""A generated corpus of hostile audio files (issue 6): what a real library throws at the app.

``make_corpus(folder)`` writes every case and returns ``{name: Case}``; each case says what it
is and whether its audio is expected to decode. Nothing here is big on disk: the 10-hour file is
sparse (the kernel stores no blocks for its zeros) and the "huge" files only *claim* to be huge.

Cases: zero bytes; truncated FLAC/MP3/Ogg; text named .flac; real files with the wrong extension;
a WAV header claiming 4 GB; an MP3 whose ID3 header claims 200 MB; ID3 tags with invalid frames
(unknown encoding byte, frame larger than the tag, garbage frame ids, broken UTF-16, invalid UTF-8
in a UTF-8 frame); a FLAC with a broken Vorbis comment block; an M4A with a truncated atom and an
odd unknown atom; 0 s and 10 h durations; 8 kHz and 192 kHz; 1 and 8 channels; a name that is not
valid UTF-8 (POSIX only); random bytes behind an MPEG sync word; 1 GB of zeros named .mp3 (sparse);
a folder named like a file.
"""

from __future__ import annotations

import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from media import FORMATS, make_audio

TAGS = {"title": "Hostile", "artist": "Corpus", "album": "Issue 6", "genre": ["Rock"]}
TEN_HOURS = 10 * 3600


@dataclass
class Case:
    path: Path
    what: str
    decodes: bool  # whether its audio is expected to decode (a reason otherwise)


def _synchsafe(n: int) -> bytes:
    return bytes(((n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F))


def _id3_frame(frame_id: bytes, payload: bytes, size: int | None = None) -> bytes:
    return frame_id + _synchsafe(len(payload) if size is None else size) + b"\x00\x00" + payload


def _with_id3(mp3_audio: bytes, frames: bytes, version: int = 4, claimed: int | None = None) -> bytes:
    size = len(frames) if claimed is None else claimed
    return b"ID3" + bytes((version, 0, 0)) + _synchsafe(size) + frames + mp3_audio


def _strip_id3(data: bytes) -> bytes:
    """The MPEG frames of an MP3 without its leading ID3v2 tag."""
    if data[:3] != b"ID3":
        return data
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return data[10 + size:]


def _sparse_wav(path: Path, seconds: int, sr: int = 8000) -> None:
    """A valid 16-bit mono WAV of ``seconds`` of silence, stored sparse (a few KB on disk)."""
    data_bytes = seconds * sr * 2
    header = (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sr, sr * 2, 2, 16)
              + b"data" + struct.pack("<I", data_bytes))
    with open(path, "wb") as handle:
        handle.write(header)
        handle.truncate(len(header) + data_bytes)


def _lying_wav(path: Path) -> None:
    """A WAV whose RIFF and data sizes claim ~4 GB, followed by 0.5 s of real audio."""
    y = (0.3 * np.sin(2 * np.pi * 440 * np.arange(11025) / 22050) * 32767).astype("<i2").tobytes()
    header = (b"RIFF" + struct.pack("<I", 0xFFFFFFF0) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 22050, 44100, 2, 16)
              + b"data" + struct.pack("<I", 0xFFFFFFC0))
    path.write_bytes(header + y)


def _broken_vorbis_flac(source: Path, target: Path) -> None:
    """A FLAC whose VORBIS_COMMENT block claims 1e9 comments (more than the block holds)."""
    data = bytearray(source.read_bytes())
    pos = 4
    while pos < len(data):
        header = data[pos]
        kind, last = header & 0x7F, header & 0x80
        length = int.from_bytes(data[pos + 1:pos + 4], "big")
        if kind == 4:
            body = pos + 4
            vendor_len = int.from_bytes(data[body:body + 4], "little")
            count_at = body + 4 + vendor_len
            data[count_at:count_at + 4] = (10**9).to_bytes(4, "little")
            break
        pos += 4 + length
        if last:
            raise ValueError("no VORBIS_COMMENT block")
    target.write_bytes(bytes(data))


def make_corpus(folder: str | os.PathLike[str]) -> dict[str, Case]:
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    masters = root / ".masters"  # hidden: the scanner skips it
    masters.mkdir(exist_ok=True)
    mp3 = make_audio(masters / "m.mp3", seconds=1.0, tags=TAGS, signal="noise")
    flac = make_audio(masters / "m.flac", seconds=1.0, tags=TAGS, signal="noise")
    ogg = make_audio(masters / "m.ogg", seconds=1.0, tags=TAGS, signal="noise")
    wav = make_audio(masters / "m.wav", seconds=1.0, tags=TAGS, signal="noise")
    mpeg = _strip_id3(mp3.read_bytes())
    cases: dict[str, Case] = {}

    def add(name: str, what: str, decodes: bool, data: bytes | None = None) -> Path:
        path = root / name
        if data is not None:
            path.write_bytes(data)
        cases[name] = Case(path, what, decodes)
        return path

    add("zero.mp3", "zero bytes", False, b"")
    add("truncated.flac", "FLAC cut after its first 200 bytes", False, flac.read_bytes()[:200])
    add("truncated.mp3", "MP3 cut at 40% (the audio that is there decodes)", True,
        mp3.read_bytes()[: len(mp3.read_bytes()) * 2 // 5])
    add("truncated.ogg", "Ogg Vorbis cut at 30%", False, ogg.read_bytes()[: len(ogg.read_bytes()) * 3 // 10])
    add("text.flac", "a text file named .flac", False, b"This is not audio.\n" * 50)
    add("sync_garbage.mp3", "random bytes behind an MPEG sync word", False,
        b"\xff\xfb\x90\x00" + np.random.default_rng(6).bytes(4000))
    add("wav_named.mp3", "a real WAV named .mp3", True, wav.read_bytes())
    add("flac_named.ogg", "a real FLAC named .ogg", True, flac.read_bytes())
    _lying_wav(add("claims_4gb.wav", "WAV header claiming 4 GB, 0.5 s of data", True))
    add("id3_claims_200mb.mp3", "ID3 header claiming a 200 MB tag", False,
        _with_id3(mpeg, _id3_frame(b"TIT2", b"\x03Big"), claimed=200 * 1024 * 1024))
    bad_frames = (_id3_frame(b"TIT2", b"\x07weird encoding byte")
                  + _id3_frame(b"TPE1", b"\x03Artist")
                  + _id3_frame(b"tx!Z", b"\x03garbage frame id")
                  + _id3_frame(b"TALB", b"\x03Album", size=5000))  # larger than the tag
    add("id3_invalid_frames.mp3", "ID3 with an unknown encoding, a garbage id, an oversize frame", True,
        _with_id3(mpeg, bad_frames))
    add("id3_bad_utf16.mp3", "ID3 UTF-16 text without BOM and with an odd length", True,
        _with_id3(mpeg, _id3_frame(b"TIT2", b"\x01A\x00B") + _id3_frame(b"TCON", b"\x01\xff\xfeR\x00o")))
    add("id3_bad_utf8.mp3", "ID3v2.4 UTF-8 frames holding invalid UTF-8", True,
        _with_id3(mpeg, _id3_frame(b"TIT2", b"\x03Caf\xe9 \xff\xfe") + _id3_frame(b"TCON", b"\x03Ro\xc3ck")))
    _broken_vorbis_flac(flac, add("broken_vorbis.flac", "FLAC whose Vorbis comment block claims 1e9 fields", True))
    if ".m4a" in FORMATS:
        m4a = make_audio(masters / "m.m4a", seconds=1.0, tags=TAGS, signal="noise").read_bytes()
        add("truncated_atom.m4a", "M4A whose last atom claims more bytes than the file has", True,
            m4a + struct.pack(">I", 10**6) + b"free" + b"\x00" * 16)
        ftyp_end = int.from_bytes(m4a[:4], "big")
        add("odd_atom.m4a", "M4A with an unknown top-level atom right after ftyp (ffmpeg rejects it)", False,
            m4a[:ftyp_end] + struct.pack(">I", 24) + b"zzzz" + b"\x01" * 16 + m4a[ftyp_end:])
    empty = np.zeros((0, 1), np.float32)
    sf.write(add("zero_seconds.wav", "a valid WAV with no samples", False), empty, 22050, subtype="PCM_16")
    _sparse_wav(add("ten_hours.wav", "10 hours of 8 kHz silence, sparse on disk", True), TEN_HOURS)
    make_audio(add("rate_8k.wav", "8 kHz", True), seconds=1.0, sr=8000, signal="noise", tags=TAGS)
    make_audio(add("rate_192k.flac", "192 kHz", True), seconds=1.0, sr=192000, signal="noise", tags=TAGS)
    make_audio(add("one_channel.ogg", "1 channel", True), seconds=1.0, channels=1, signal="noise", tags=TAGS)
    make_audio(add("eight_channels.wav", "8 channels", True), seconds=1.0, sr=48000, channels=8,
               signal="noise", tags=TAGS)
    with open(add("gigabyte_of_zeros.mp3", "1 GB of zeros named .mp3 (sparse)", False), "wb") as handle:
        handle.truncate(1 << 30)
    (root / "folder.mp3").mkdir(exist_ok=True)  # a folder named like a file: not a track
    if sys.platform != "win32":
        bad_name = os.fsdecode(os.fsencode(str(root)) + b"/bad-\xff\xfe-name.flac")
        Path(bad_name).write_bytes(flac.read_bytes())
        cases["bad-name.flac"] = Case(Path(bad_name), "a file name that is not valid UTF-8", True)
    return cases
