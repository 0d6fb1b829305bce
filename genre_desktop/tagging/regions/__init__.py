"""The audio region of a file: what a tag write must leave byte-identical, and what it only moves.

A tag write is verified on the working copy before it replaces the user's file: the digest of the
copy's audio region must equal the original's. Each container says where its audio lives (chosen
by the registry's table, one walk per container, one module each):

- ``iff``: WAV/AIFF, the format and sample chunks (streamed WAVs, two ID3 chunks);
- ``mpeg``: MP3 frames between the ID3v2 and ID3v1 tags; FLAC STREAMINFO and frames;
- ``ogg``: Ogg packets except the comment header, with granules and flags;
- ``mp4``: ``mdat`` payloads and the chunk offsets relative to them;
- ``asf``: WMA data and index objects and the non-tag header objects.

A walk returns a ``Layout`` (``common``): the digest, the units a write moves unchanged (which
``tagging.rebuild`` uses to give the original back from the written file), and byte fixes for the
working copy. A region that cannot be located safely raises ``RegionError`` with the reason in a
user's words.
"""

from genre_desktop.tagging.regions.asf import asf
from genre_desktop.tagging.regions.common import Layout, Region, RegionError, Unit, digest, layout
from genre_desktop.tagging.regions.iff import aiff, wave
from genre_desktop.tagging.regions.mp4 import atoms as _atoms
from genre_desktop.tagging.regions.mp4 import mp4
from genre_desktop.tagging.regions.mpeg import flac, mp3
from genre_desktop.tagging.regions.ogg import ogg

__all__ = ["Layout", "Region", "RegionError", "Unit", "aiff", "asf", "digest", "flac", "layout", "mp3", "mp4",
           "ogg", "wave", "_atoms"]
