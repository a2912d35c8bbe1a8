"""Decide how a feed's bytes are decoded, and transcode what expat cannot read to UTF-8.

Expat reads UTF-8, UTF-16, ISO-8859-1 and US-ASCII itself (and, through Python, the
single-byte code pages) but refuses multi-byte encodings such as Big5, EUC-KR,
Shift_JIS, GB2312 and GB18030. Those are decoded here, chunk by chunk, and handed to
expat as UTF-8 with the encoding overridden, so the declaration in the prolog no longer
matters to it.

Which encoding applies: a byte-order mark, else the XML declaration, else the HTTP
``charset``, else UTF-8 (the XML default).
"""
import codecs
import re
from collections.abc import Iterable, Iterator

from podcast_pipeline import PodcastError

_DECLARATION = re.compile(rb"\A\s*<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_EXPAT_NAMES = {"utf-8": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16LE",
                "utf-16-be": "UTF-16BE", "iso8859-1": "ISO-8859-1", "latin-1": "ISO-8859-1",
                "ascii": "US-ASCII"}
"""Python codec names -> the names expat knows for the encodings it reads itself."""


class UnknownEncodingError(PodcastError):
    """The document names an encoding that Python does not know."""


def declared_encoding(head: bytes) -> str | None:
    """Return the encoding named in the XML declaration at the start of ``head``.

    >>> declared_encoding(b'<?xml version="1.0" encoding="Big5"?><rss/>')
    'Big5'
    >>> declared_encoding(b"<rss/>") is None
    True
    """
    match = _DECLARATION.match(head)
    return match.group(1).decode("ascii") if match else None


def choose_encoding(head: bytes, http_charset: str | None = None) -> tuple[str | None, bool]:
    """Return ``(encoding to tell expat, transcode to UTF-8 first?)`` for a document.

    ``(None, False)`` lets expat follow the document itself (a BOM, a declaration it
    reads, or no declaration: UTF-8).

    >>> choose_encoding(b'<?xml version="1.0" encoding="EUC-KR"?>')
    ('euc_kr', True)
    >>> choose_encoding(b'<?xml version="1.0" encoding="iso-8859-1"?>')
    (None, False)
    >>> choose_encoding(b"<rss/>", http_charset="ISO-8859-1")
    ('ISO-8859-1', False)

    Raises:
        UnknownEncodingError: the declared (or HTTP) encoding is not known to Python.
    """
    if head.startswith(_BOMS):
        return None, False
    declared = declared_encoding(head)
    name = declared or (http_charset.strip() if http_charset else None)
    if not name:
        return None, False
    try:
        codec = codecs.lookup(name).name
    except LookupError as err:
        raise UnknownEncodingError(f"its encoding {name!r} is unknown") from err
    if codec in _EXPAT_NAMES:
        return (None if declared else _EXPAT_NAMES[codec]), False
    return codec, True


def to_utf8(chunks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """Re-encode ``chunks`` from ``encoding`` to UTF-8 (undecodable bytes become U+FFFD).

    >>> b"".join(to_utf8(["中文".encode("big5")[:1], "中文".encode("big5")[1:]], "big5"))
    b'\\xe4\\xb8\\xad\\xe6\\x96\\x87'
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    for chunk in chunks:
        yield decoder.decode(chunk).encode("utf-8")
    yield decoder.decode(b"", final=True).encode("utf-8")
