"""Folding: the copy of a message the firewall's patterns run on.

Full-width ASCII becomes ASCII, ASCII letters lower case, odd spaces a space, full-width ¥ and £ the plain
signs: one code point for one, so an offset found in the folded copy is an offset into the original.
"""

_FOLD = {cp: ord(chr(cp - 0xFEE0).lower()) for cp in range(0xFF01, 0xFF5F)}
_FOLD.update({cp: cp + 32 for cp in range(ord("A"), ord("Z") + 1)})
_FOLD.update({0x3000: 0x20, 0x00A0: 0x20, 0x2009: 0x20, 0x202F: 0x20, 0xFFE5: ord("¥"), 0xFFE1: ord("£")})
# The same mapping as a table indexed by code point: str.translate looks a string table up faster than a dict
# (code points past the table stay as they are).
_FOLD_TABLE = "".join(chr(_FOLD.get(cp, cp)) for cp in range(0x10000))


def fold(text: str) -> str:
    """The folded copy of text, of the same length, that every pattern of the firewall matches against."""
    # ASCII text only needs lower case, which str.lower does one for one and far faster.
    return text.lower() if text.isascii() else text.translate(_FOLD_TABLE)
