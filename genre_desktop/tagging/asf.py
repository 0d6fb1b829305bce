"""ASF (WMA) attributes: each name holds several typed values, read as their text.

``WM/GenreID`` (an old numeric companion, unsupported since Windows Media Player 10) is left as it
is: it is not written by current software and touching it would change a field we do not own.
TagLib reads several values of one attribute in another order than they are stored (mutagen,
mediafile and ffprobe keep the stored order); it has no property for an attribute named STYLE.
"""

from __future__ import annotations

from genre_desktop.tagging.base import Backend


class ASFBackend(Backend):
    name = "asf"
    formats = ("asf",)
