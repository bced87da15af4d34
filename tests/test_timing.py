import pytest

from corridors.catalog.timing import plan_open_year


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("2021 -2025", 2025),                              # Appendix III I.1, as written
        ("2021 - 2025", 2025),
        ("2022 - 2027", 2027),
        ("Before 2030", 2029),
        ("Before 2024", 2023),
        ("Before 2025 ", 2024),
        ("Before 2030 (stage I of 2021 - 2025)", 2025),    # Appendix III I.9
        ("2020 - 2024 (stage 1)", 2024),                   # Appendix III I.10
        ("2026 - 2030", 2030),
        ("2028", 2028),
    ],
)
def test_rule_gives_documented_year(text, year):
    assert plan_open_year(text) == year


@pytest.mark.parametrize("text", ["soon", "", "2030 - 2025", "by the end of the decade"])
def test_rule_rejects_unreadable_text(text):
    with pytest.raises(ValueError, match="expected time|period ends"):
        plan_open_year(text)
