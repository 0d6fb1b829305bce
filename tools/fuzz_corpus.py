"""The fuzz campaign's files (``tools/fuzz_tags.py``): masters of every container and their mutants.

Masters: real files of every container (tests/media.py) with title, artist, album and genres,
plus odd-but-valid ones: ID3v2.3 with a multi-value TCON and one of 2,000 "/"-joined genres, a
FLAC whose GENRE holds a NUL, a WAV with a LIST chunk; the classes issue 21's campaign found not undone byte for byte (an untagged
MPEG-2.5 MP3, an empty ID3v2.4 tag before a real v2.3 one, junk after a WAV's last chunk,
ffmpeg-made MP3/Opus/M4A/WMA/Ogg/FLAC, a FLAC with 64 KB padding, ID3v2.2, a Latin-1
"(17)(Live)", uppercase GENRE first, streamed WAVs; tests/undo_media.py); files with a 60 KB
cover picture; real WavPack/TTA/Speex/CAF/Matroska renamed, and DSF/DSDIFF/M4B/Wave64 files.
Mutants: byte flips, truncations, duplicated or zeroed blocks, huge length fields, garbage
before or after. ``extra_masters`` adds a folder of real files from elsewhere (mutagen's own test
corpus: ``tools/fuzz_tags.py --extra``).
"""

from __future__ import annotations

import logging
import random
import re
import struct
import sys
from collections import defaultdict
from pathlib import Path

import mutagen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from ffmpeg_media import FFMPEG_MADE, dsdiff, dsf, ffmpeg_made  # noqa: E402
from media import FORMATS, UNTAGGABLE, ffmpeg_available, make_audio, make_untaggable  # noqa: E402
from undo_media import campaign_files, cover_jpeg, with_cover  # noqa: E402

TAGS = {"title": "Fuzz title", "artist": "Fuzz artist", "album": "Fuzz album", "genre": ["Rock", "Jazz"]}
MUTATIONS = ("flip", "truncate", "duplicate", "zero", "huge_length", "garbage_before", "garbage_after")
# campaign_files() name -> the container folder it joins
_CAMPAIGN = {"mpeg25.mp3": "mp3", "stacked.mp3": "mp3", "ffmpeg.mp3": "mp3", "v22.mp3": "mp3", "latin1.mp3": "mp3",
             "junk.wav": "wav", "streamed.wav": "wav", "streamed-bare.wav": "wav", "streamed-odd.wav": "wav",
             "ffmpeg.opus": "opus", "ffmpeg.m4a": "m4a", "ffmpeg.wma": "wma", "ffmpeg.ogg": "ogg",
             "upper.ogg": "ogg", "ffmpeg.flac": "flac", "padded.flac": "flac", "upper.flac": "flac"}


# An extra folder's file joins the container of its extension (anything else: "untaggable").
_BY_EXTENSION = {".mp3": "mp3", ".flac": "flac", ".aif": "aiff", ".aiff": "aiff", ".wma": "wma", ".wav": "wav",
                 ".m4a": "m4a", ".m4b": "m4a", ".mp4": "m4a", ".ogg": "ogg", ".oga": "ogg", ".opus": "opus"}


def extra_masters(folder: Path) -> dict[str, list[Path]]:
    """The files of ``folder`` (another project's test files, mutagen's tests/data), by container.

    They are not made here, so they bring what nobody here thought of: old tag versions, odd
    encoders, files other libraries found hard."""
    out: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.stat().st_size > 0):
        out[_BY_EXTENSION.get(path.suffix.lower(), "untaggable")].append(path)
    return out


def masters(folder: Path) -> dict[str, list[Path]]:
    """Container name -> master files (valid, some deliberately odd)."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[Path]] = defaultdict(list)
    for ext in FORMATS:
        name = ext.lstrip(".")
        out[name].append(make_audio(folder / f"plain{ext}", seconds=1.0, tags=TAGS, signal="noise"))
        out[name].append(make_audio(folder / f"stereo{ext}", seconds=0.7, sr=44100, channels=2, tags=TAGS,
                                    signal="chirp"))
    if "mp3" in out:
        p = make_audio(folder / "v23.mp3", seconds=0.8, tags={"title": "Old"}, signal="noise")
        audio = mutagen.File(p)
        audio.tags.add(mutagen.id3.TCON(encoding=1, text=["Drum; Bass", "Pop"]))
        audio.tags.update_to_v23()
        audio.save(v2_version=3, v23_sep=None)
        out["mp3"].append(p)
        # A genre of 2,000 "/"-joined pieces: splitting it was quadratic (minutes for a hostile one).
        p = make_audio(folder / "many-genres.mp3", seconds=0.8, tags={"title": "Many"}, signal="noise")
        audio = mutagen.File(p)
        audio.tags.add(mutagen.id3.TCON(encoding=1, text=["/".join(f"G{i}" for i in range(2000))]))
        audio.tags.update_to_v23()
        audio.save(v2_version=3, v23_sep=None)
        out["mp3"].append(p)
    if "flac" in out:
        p = make_audio(folder / "nul.flac", seconds=0.8, tags={"title": "Nul"}, signal="noise")
        audio = mutagen.File(p)
        audio.tags["GENRE"] = ["Rock\x00Live", "Jazz"]
        audio.save()
        out["flac"].append(p)
    if "wav" in out:
        p = make_audio(folder / "list.wav", seconds=0.8, signal="noise")
        data = p.read_bytes()
        info = b"INFO" + b"IGNR" + struct.pack("<I", 5) + b"Rock\x00\x00"
        riff = data[12:] + b"LIST" + struct.pack("<I", len(info)) + info
        p.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(riff)) + b"WAVE" + riff)
        out["wav"].append(p)
    for name, path in campaign_files(folder / "campaign").items():
        out[_CAMPAIGN[name]].append(path)
    if ffmpeg_available():
        jpeg = cover_jpeg(folder, 60_000)
        for ext in FORMATS:
            out[ext.lstrip(".")].append(with_cover(make_audio(folder / f"cover{ext}", seconds=0.8, tags=TAGS,
                                                              signal="noise"), jpeg))
        for kind in UNTAGGABLE:
            try:
                out["untaggable"].append(make_untaggable(folder / f"{kind}.mp3", kind, seconds=0.8))
            except RuntimeError as exc:  # an encoder this ffmpeg lacks
                logging.info("no %s master: %s", kind, exc)
        for ext in FFMPEG_MADE:
            target = ffmpeg_made(folder / f"ffmpeg-only{ext}", seconds=0.8)
            out["m4a" if ext == ".m4b" else "untaggable"].append(target)
    out["untaggable"] += [dsf(folder / "dsd.dsf", 0.3), dsdiff(folder / "dsd.dff", 0.3)]
    return out


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    kind = rng.choice(MUTATIONS)
    b = bytearray(data)
    n = len(b)
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(n) if rng.random() < 0.5 else rng.randrange(min(n, 4096))  # headers are near the start
            b[i] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        cut = rng.randrange(1, n)
        b = b[:cut]
    elif kind == "duplicate":
        start = rng.randrange(n)
        block = b[start:start + rng.randint(1, 4096)]
        at = rng.randrange(n)
        b[at:at] = block
    elif kind == "zero":
        start = rng.randrange(n)
        length = rng.randint(1, 4096)
        b[start:start + length] = bytes(len(b[start:start + length]))
    elif kind == "huge_length":
        # A length field (4 bytes, either endian) near a chunk/atom/block header claims too much.
        at = rng.randrange(0, max(1, min(n - 4, 8192)))
        marks = [m.start() for m in re.finditer(rb"data|SSND|moov|mdat|udta|ilst|ID3|LIST|fmt |COMM|OggS|fLaC", b[:65536])]
        if marks and rng.random() < 0.8:
            at = min(rng.choice(marks) + rng.choice((3, 4, 6)), n - 4)
        value = rng.choice((0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, n * 4, n + 1))
        b[at:at + 4] = struct.pack(rng.choice(("<I", ">I")), value)
    elif kind == "garbage_before":
        b[0:0] = rng.randbytes(rng.randint(1, 2048))
    else:
        b.extend(rng.randbytes(rng.randint(1, 4096)))
    return bytes(b), kind


