"""Place-name normalisation: "Lào Cai", "Lao Cai" and "lao cai" match the same place."""

from __future__ import annotations

import re
import unicodedata

# Letters that Unicode decomposition does not reduce to ASCII.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "D", "ð": "d"})


def ascii_name(name: str) -> str:
    """Return ``name`` without diacritics, keeping case and spacing.

    Parameters
    ----------
    name : str
        A name such as ``"Lào Cai"`` or ``"Đồng Đăng"``.

    Returns
    -------
    str
        ``"Lao Cai"``, ``"Dong Dang"``.
    """
    decomposed = unicodedata.normalize("NFKD", name.translate(_SPECIAL))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def match_key(name: str) -> str:
    """Return the key used to match names: ASCII, lower case, punctuation and spaces folded.

    ``match_key("Lào Cai") == match_key("lao-cai") == "lao cai"``.
    """
    text = ascii_name(name).lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return text.strip()
