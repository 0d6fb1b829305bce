"""tagging layer (see DESIGN.md): reading tags and writing genres with mutagen.

One backend per tag format (``id3``, ``vorbis``, ``mp4``, ``asf``), chosen by the table in
``registry``; ``files`` opens files and saves them crash-safely. The journal, verification by
read-back and undo live in library/, above this layer.
"""

from genre_desktop.tagging.base import FileTags, TagError, UnsupportedFormat, WriteOptions
from genre_desktop.tagging.files import read_genres, read_tags, write_genres

__all__ = ["FileTags", "TagError", "UnsupportedFormat", "WriteOptions", "read_genres", "read_tags", "write_genres"]
