"""tagging layer (see DESIGN.md): reading tags and writing genres with mutagen.

One backend per tag format (``id3``, ``riff_info`` for WAV, ``vorbis``, ``mp4``, ``asf``), chosen by
the table in ``registry``, which also names each container's audio region (``regions``: the bytes a
write must leave identical, and those it only moves); ``files`` opens files and saves them through
a working copy (``working_copy``) that is verified, and proven undoable (``rebuild``: the original
rebuilt from the written copy, with ``chunking`` to find moved bytes), before it replaces the
original; ``restore`` gives the original back byte for byte; ``foreign`` reads the tags of formats
without a backend; ``reasons`` words failures for users. The journal, the undo data and undo
itself live in library/, above this layer.
"""

from genre_desktop.tagging.base import FileTags, TagError, UnsupportedFormat, WriteOptions
from genre_desktop.tagging.files import read_genres, read_tags, write_genres

__all__ = ["FileTags", "TagError", "UnsupportedFormat", "WriteOptions", "read_genres", "read_tags", "write_genres"]
