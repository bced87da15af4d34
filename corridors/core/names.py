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

    Letters of other scripts (Chinese, Lao) are kept as written, so that 昆明 matches 昆明;
    Latin letters lose their diacritics.

    ``match_key("Lào Cai") == match_key("lao-cai") == "lao cai"``; ``match_key("昆明") == "昆明"``.
    """
    text = ascii_name(name).lower()
    text = "".join(c if c.isascii() or c.isalnum() else " " for c in text)
    text = re.sub(r"[^a-z0-9\u0250-\U0010ffff]+", " ", text)
    return text.strip()
