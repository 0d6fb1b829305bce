"""Which files are audio: the extensions the scan reads, format names, and cheap content sniffs.

Phone recordings in 3GP/3GPP2 (.3gp, .3g2: MP4 files of another brand) are read and tagged as M4A,
and FLAC in Ogg (.oggflac) as Ogg, by the same mutagen classes the content sniff picks.

Besides the containers the app tags, the scan reads every format ffmpeg decodes that music
libraries hold (WavPack, Musepack, Monkey's Audio, TTA, TAK, OptimFROG, DSD as DSF and DSDIFF,
M4B audiobooks, Matroska audio, CAF, Speex, Wave64, MP2, Dolby Digital AC-3 and E-AC-3 as DVD
and broadcast rips keep them): they are scanned, played and analysed;
only writing their tags is refused, with a reason.

ffprobe/ffmpeg are only asked about files that plausibly hold audio (a known magic number, or an
MPEG/ADTS frame sync within the first 64 KB): on a gigabyte of junk named .mp3, ffprobe reads the
whole file looking for a frame (8 s per GB here), so junk is refused from its first bytes instead.
"""

from __future__ import annotations

import os
from pathlib import Path

TAGGED_EXTENSIONS = frozenset(
    {".mp3", ".flac", ".ogg", ".oga", ".oggflac", ".opus", ".wav", ".aif", ".aiff", ".m4a", ".mp4", ".3gp", ".3g2",
     ".aac", ".wma", ".au"})
# Decoded by ffmpeg (or libsndfile), their tags not written by this app.
FFMPEG_EXTENSIONS = frozenset(
    {".wv", ".mpc", ".mp+", ".mpp", ".ape", ".tta", ".tak", ".ofr", ".ofs", ".dsf", ".dff", ".m4b", ".mka",
     ".caf", ".spx", ".w64", ".aifc", ".mp2", ".weba", ".ac3", ".eac3"})
SUPPORTED_EXTENSIONS: frozenset[str] = TAGGED_EXTENSIONS | FFMPEG_EXTENSIONS

# libsndfile major format (and Ogg codec) -> our format name.
SOUNDFILE_FORMATS = {"WAV": "wav", "WAVEX": "wav", "RF64": "wav", "W64": "w64", "FLAC": "flac",
                     "MP3": "mp3", "AIFF": "aiff", "AU": "au", "CAF": "caf"}
OGG_CODECS = {"OPUS": "opus", "VORBIS": "ogg", "FLAC": "ogg", "SPEEX": "speex"}
# mutagen FileType class name -> our format name.
MUTAGEN_FORMATS = {"MP3": "mp3", "EasyMP3": "mp3", "MP4": "m4a", "EasyMP4": "m4a", "ASF": "wma",
                   "AAC": "aac", "FLAC": "flac", "OggVorbis": "ogg", "OggFLAC": "ogg", "OggOpus": "opus",
                   "WAVE": "wav", "AIFF": "aiff", "WavPack": "wavpack", "Musepack": "musepack",
                   "MonkeysAudio": "ape", "TrueAudio": "tta", "TAK": "tak", "OptimFROG": "optimfrog",
                   "DSF": "dsf", "DSDIFF": "dsdiff", "OggSpeex": "speex", "OggTheora": "ogg"}
# Our format name -> the name users know, for messages.
DISPLAY_NAMES = {"wavpack": "WavPack", "musepack": "Musepack", "ape": "Monkey's Audio (APE)", "tta": "TTA",
                 "tak": "TAK", "optimfrog": "OptimFROG", "dsf": "DSF (DSD audio)", "dsdiff": "DSDIFF (DSD audio)",
                 "speex": "Speex", "caf": "Core Audio (CAF)", "matroska": "Matroska", "w64": "Wave64",
                 "au": "Sun .au", "ac3": "Dolby Digital (AC-3)", "eac3": "Dolby Digital Plus (E-AC-3)"}

# First bytes of the containers we read; used to word the error for unreadable files.
_MAGIC = (b"RIFF", b"RF64", b"FORM", b"fLaC", b"OggS", b"ID3", b".snd", b"\x30\x26\xb2\x75",
          # audio we cannot tag but ffmpeg may decode (WavPack, APE, TTA, TAK, DSF, DSDIFF,
          # Musepack, OptimFROG, CAF, Matroska, Wave64), whatever the file's extension
          b"wvpk", b"MAC ", b"TTA1", b"tBaK", b"DSD ", b"FRM8", b"MPCK", b"MP+", b"OFR ", b"caff",
          b"\x1aE\xdf\xa3", b"riff\x2e\x91\xcf\x11",
          b"\x0b\x77")  # the AC-3 / E-AC-3 sync word
_SYNC_WINDOW = 64 * 1024
_MP4_ATOMS = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")


def looks_like_audio(path: str | os.PathLike[str]) -> bool:
    """Whether the first bytes are those of a container we read (a cheap sniff, no parsing)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        return False
    if head.startswith(_MAGIC) or head[4:8] == b"ftyp":
        return True
    # MPEG audio / ADTS frame sync: 11 set bits.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0


def plausibly_audio(path: Path) -> bool:
    """A known magic number, or an MPEG/ADTS frame sync in the first 64 KB (MP3 after leading junk)."""
    if looks_like_audio(path):
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SYNC_WINDOW)
    except OSError:
        return False
    if head[4:8] in _MP4_ATOMS:
        return True
    i = head.find(b"\xff")
    while 0 <= i < len(head) - 1:
        if head[i + 1] & 0xE0 == 0xE0:
            return True
        i = head.find(b"\xff", i + 1)
    return False


def unreadable_reason(path: Path) -> str:
    if not looks_like_audio(path):
        return "not an audio file: header not recognised"
    return "corrupt or unsupported audio: no readable audio stream"


def soundfile_format(fmt: str, subtype: str) -> str:
    if fmt == "OGG":
        return OGG_CODECS.get(subtype, "ogg")
    return SOUNDFILE_FORMATS.get(fmt, fmt.lower())
