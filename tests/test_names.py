import pytest

from corridors.core.names import ascii_name, match_key


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Lào Cai", "Lao Cai"), ("Đồng Đăng", "Dong Dang"), ("Hữu Nghị", "Huu Nghi"),
     ("Điện Biên Phủ", "Dien Bien Phu"), ("Bắc Kạn", "Bac Kan"), ("Quảng Ninh", "Quang Ninh")],
)
def test_ascii_name_strips_vietnamese_diacritics(name, expected):
    assert ascii_name(name) == expected


def test_match_key_folds_case_diacritics_and_punctuation():
    keys = {match_key(s) for s in ("Lào Cai", "Lao Cai", "lao cai", "LAO-CAI", "  lào  cai ")}
    assert keys == {"lao cai"}
    assert match_key("Lạng Sơn") != match_key("Lào Cai")
