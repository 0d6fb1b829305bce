"""Build the small tagged files the tagging contract tests run over (``tests/data/tagging/``).

One file per container and tag form the app writes, each a quarter second of a 440 Hz tone at
16 kHz mono (a few KB), so the contract tests cover every backend on a machine without ffmpeg.
The audio is encoded by ffmpeg; the tags are written the way real taggers leave them:

- ``mp3_v24.mp3``: ID3v2.4, genres as several TCON values (Picard, beets, foobar2000);
- ``mp3_v23.mp3``: ID3v2.3, genres joined by "/" in one TCON value (Picard's and beets' v2.3 join);
- ``mp3_v22.mp3``: ID3v2.2 (iTunes before 2005; mutagen reads it but cannot write it), built
  byte by byte here;
- ``wav.wav``: ffmpeg's own RIFF LIST INFO chunk only (what every ffmpeg-made WAV carries), genres
  joined by "; " in IGNR;
- ``aiff.aiff``: an ID3v2.4 chunk;
- ``flac.flac``, ``ogg.ogg``, ``opus.opus``: Vorbis comments, one GENRE field per genre;
- ``m4a.m4a``: MP4 atoms, several values in the \\xa9gen atom;
- ``wma.wma``: ASF attributes, several WM/Genre attributes.

Except the WAV (INFO has no album artist and no style) each holds the same fields: title, artist,
album, album artist, date 1999-04-01, the genres Rock and Jazz and the style Bebop in the format's
STYLE convention. ``fixtures.json`` records what each file must read as. Tags are written with
mutagen directly, never with ``genre_desktop.tagging``, so the tests do not check the code with
files made by that code.

Usage: ``python tools/make_tag_fixtures.py [--out tests/data/tagging]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import mutagen
from mutagen.asf import ASF
from mutagen.id3 import TALB, TCON, TDRC, TIT2, TPE1, TPE2, TXXX
from mutagen.mp4 import MP4, AtomDataType, MP4FreeForm

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "tagging"
RATE, SECONDS = 16000, 0.25
TAGS = {"title": "Song Title", "artist": "The Artist", "album": "An Album", "albumartist": "Various",
        "date": "1999-04-01", "genres": ["Rock", "Jazz"], "styles": ["Bebop"]}

# name -> (ffmpeg codec arguments, muxer)
ENCODE = {
    "mp3_v24.mp3": (["-c:a", "libmp3lame", "-b:a", "32k", "-write_xing", "0", "-id3v2_version", "0"], "mp3"),
    "mp3_v23.mp3": (["-c:a", "libmp3lame", "-b:a", "32k", "-write_xing", "0", "-id3v2_version", "0"], "mp3"),
    "mp3_v22.mp3": (["-c:a", "libmp3lame", "-b:a", "32k", "-write_xing", "0", "-id3v2_version", "0"], "mp3"),
    "wav.wav": (["-c:a", "pcm_s16le"], "wav"),
    "aiff.aiff": (["-c:a", "pcm_s16be"], "aiff"),
    "flac.flac": (["-c:a", "flac"], "flac"),
    "ogg.ogg": (["-c:a", "libvorbis", "-q:a", "0"], "ogg"),
    "opus.opus": (["-c:a", "libopus", "-b:a", "16k"], "opus"),
    "m4a.m4a": (["-c:a", "aac", "-b:a", "24k"], "ipod"),
    "wma.wma": (["-c:a", "wmav2", "-b:a", "32k"], "asf"),
}


def encode(path: Path, codec: list[str], muxer: str, metadata: dict[str, str] | None = None) -> None:
    meta = [arg for key, value in (metadata or {}).items() for arg in ("-metadata", f"{key}={value}")]
    cmd = ["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "lavfi",
           "-i", f"sine=frequency=440:sample_rate={RATE}:duration={SECONDS}",
           "-ac", "1", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
           *codec, *meta, "-f", muxer, str(path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def tag_id3(path: Path, version: int) -> None:
    audio = mutagen.File(path)  # MP3: the tag before the frames; AIFF: an "ID3 " chunk
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    tags.add(TIT2(encoding=1, text=[TAGS["title"]]))
    tags.add(TPE1(encoding=1, text=[TAGS["artist"]]))
    tags.add(TALB(encoding=1, text=[TAGS["album"]]))
    tags.add(TPE2(encoding=1, text=[TAGS["albumartist"]]))
    tags.add(TDRC(encoding=1, text=[TAGS["date"]]))
    genres = TAGS["genres"] if version == 4 else ["/".join(TAGS["genres"])]
    tags.add(TCON(encoding=1 if version == 3 else 3, text=genres))
    tags.add(TXXX(encoding=1, desc="STYLE", text=TAGS["styles"]))
    if version == 3:
        tags.update_to_v23()
    audio.save(v2_version=version, v23_sep=None) if path.suffix == ".mp3" else audio.save(v2_version=version)


def id3v22_tag() -> bytes:
    """An ID3v2.2 tag (3-character frame ids, 3-byte sizes, Latin-1 text) as iTunes wrote them."""
    def frame(fid: bytes, text: str) -> bytes:
        body = b"\x00" + text.encode("latin-1")
        return fid + len(body).to_bytes(3, "big") + body
    frames = (frame(b"TT2", TAGS["title"]) + frame(b"TP1", TAGS["artist"]) + frame(b"TAL", TAGS["album"])
              + frame(b"TP2", TAGS["albumartist"]) + frame(b"TYE", TAGS["date"][:4])
              + frame(b"TCO", "/".join(TAGS["genres"])))
    size = len(frames) + 64  # some padding, as taggers leave it
    synchsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x02\x00\x00" + synchsafe + frames + b"\x00" * 64


def tag_vorbis(path: Path) -> None:
    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    for key, value in (("TITLE", TAGS["title"]), ("ARTIST", TAGS["artist"]), ("ALBUM", TAGS["album"]),
                       ("ALBUMARTIST", TAGS["albumartist"]), ("DATE", TAGS["date"])):
        audio.tags[key] = [value]
    audio.tags["GENRE"] = TAGS["genres"]
    audio.tags["STYLE"] = TAGS["styles"]
    audio.save()


def tag_mp4(path: Path) -> None:
    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    for key, value in (("\xa9nam", TAGS["title"]), ("\xa9ART", TAGS["artist"]), ("\xa9alb", TAGS["album"]),
                       ("aART", TAGS["albumartist"]), ("\xa9day", TAGS["date"])):
        audio.tags[key] = [value]
    audio.tags["\xa9gen"] = TAGS["genres"]
    audio.tags["----:com.apple.iTunes:STYLE"] = [MP4FreeForm(s.encode(), AtomDataType.UTF8) for s in TAGS["styles"]]
    audio.save()


def tag_asf(path: Path) -> None:
    audio = ASF(path)
    for key, value in (("Title", TAGS["title"]), ("Author", TAGS["artist"]), ("WM/AlbumTitle", TAGS["album"]),
                       ("WM/AlbumArtist", TAGS["albumartist"]), ("WM/Year", TAGS["date"][:4])):
        audio.tags[key] = [value]
    audio.tags["WM/Genre"] = TAGS["genres"]
    audio.tags["STYLE"] = TAGS["styles"]
    audio.save()


def expected(name: str, path: Path) -> dict:
    info = mutagen.File(path).info
    out = {"title": TAGS["title"], "artist": TAGS["artist"], "album": TAGS["album"],
           "albumartist": TAGS["albumartist"], "year": "1999", "genres": TAGS["genres"],
           "styles": TAGS["styles"], "channels": 1,
           "samplerate": 48000 if name.endswith(".opus") else RATE,
           "duration": round(float(info.length), 3),
           "format": {"mp3": "mp3", "wav": "wav", "aiff": "aiff", "flac": "flac", "ogg": "ogg", "opus": "opus",
                      "m4a": "m4a", "wma": "wma"}[name.rsplit(".", 1)[1]],
           "id3_version": {"mp3_v24.mp3": 4, "aiff.aiff": 4, "mp3_v23.mp3": 3, "mp3_v22.mp3": 2}.get(name)}
    if name == "wav.wav":
        out.update(albumartist="", styles=[])
    if name == "mp3_v22.mp3":
        out.update(styles=[])
    return out


def build(out: Path) -> dict[str, dict]:
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg is needed to encode the fixture audio")
    out.mkdir(parents=True, exist_ok=True)
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (codec, muxer) in ENCODE.items():
            path = Path(tmp) / name
            if name == "wav.wav":  # ffmpeg's own INFO list, as every ffmpeg-made WAV has
                encode(path, codec, muxer, {"title": TAGS["title"], "artist": TAGS["artist"],
                                            "album": TAGS["album"], "date": TAGS["date"],
                                            "genre": "; ".join(TAGS["genres"])})
            else:
                encode(path, codec, muxer)
            if name in ("mp3_v24.mp3", "aiff.aiff"):
                tag_id3(path, 4)
            elif name == "mp3_v23.mp3":
                tag_id3(path, 3)
            elif name == "mp3_v22.mp3":
                path.write_bytes(id3v22_tag() + path.read_bytes())
            elif name.endswith((".flac", ".ogg", ".opus")):
                tag_vorbis(path)
            elif name.endswith(".m4a"):
                tag_mp4(path)
            elif name.endswith(".wma"):
                tag_asf(path)
            shutil.copyfile(path, out / name)
            manifest[name] = expected(name, out / name)
    (out / "fixtures.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    for name, fields in build(args.out).items():
        print(f"{name:14} {(args.out / name).stat().st_size:6,} bytes  {fields['format']}")


if __name__ == "__main__":
    main()
