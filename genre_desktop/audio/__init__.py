"""audio layer (see DESIGN.md): decoding any supported file to mono float32, header probes."""

from genre_desktop.audio.decode import (
    SUPPORTED_EXTENSIONS,
    AudioInfo,
    DecodeError,
    decode,
    looks_like_audio,
    probe,
)

__all__ = ["SUPPORTED_EXTENSIONS", "AudioInfo", "DecodeError", "decode", "looks_like_audio", "probe"]
