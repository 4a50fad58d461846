"""Group values that may not be the patients they seem: one number written several
ways (`17`, `0017`, `17.0`, `1.7e1`), and words for a missing value (`NaN`)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightsplit._entries import group_text
from lightsplit._groupvalues import (
    MISSING_WORDS,
    missing_message,
    odd_groups,
    spellings_message,
)

PLAIN_INTEGERS = st.sets(st.integers()).map(lambda found: {str(n) for n in found})
"""Different integers, written as JSON writes them: never one number twice."""


class TestGroupText:
    @pytest.mark.parametrize("cell", [" 4", "4 ", " 4 ", "\t4\n"])
    def test_blanks_around_a_value_dropped(self, cell: str) -> None:
        """A table's cell ` 4` is the patient `4`, as the integer 4 is."""
        assert group_text(cell) == group_text(4) == "4"

    def test_blanks_inside_kept(self) -> None:
        """Blanks between words are part of the name."""
        assert group_text(" Patient 4 ") == "Patient 4"


class TestNumberSpellings:
    def test_one_number_four_ways(self) -> None:
        """`17`, `0017`, `17.0` and `1.7e1` are one number, named as `17`."""
        odd = odd_groups(["17", "0017", "17.0", "1.7e1", "18", "P17"])
        assert odd.spelled == (("17", frozenset({"17", "0017", "17.0", "1.7e1"})),)
        assert odd.missing == frozenset()
        assert odd.values == {"17", "0017", "17.0", "1.7e1"}

    def test_spellings_without_the_plain_integer(self) -> None:
        """`0017` and `17.0` are one number even where no entry writes `17`."""
        odd = odd_groups(["0017", "17.0", "5"])
        assert odd.spelled == (("17", frozenset({"0017", "17.0"})),)

    def test_zero_and_negative_numbers(self) -> None:
        """`-0`, `0.0` and `00` are `0`; `-5.0` is `-5`; `0.50` is `.5`."""
        odd = odd_groups(["0", "-0", "0.0", "-5", "-5.0", "0.50", ".5"])
        assert sorted(odd.spelled) == [
            ("-5", frozenset({"-5", "-5.0"})),
            ("0", frozenset({"0", "-0", "0.0"})),
            ("0.5", frozenset({"0.50", ".5"})),
        ]

    @pytest.mark.parametrize(
        "groups",
        [
            pytest.param(["17", "18", "170", "-17"], id="plain-integers"),
            pytest.param(["0017", "0018", "0019"], id="padded-alike"),
            pytest.param(["P17", "17a", "1-7", "17 b"], id="not-numbers"),
            pytest.param(["1e999999999999999999999", "1"], id="beyond-decimal"),
            pytest.param(["1e99999999", "1"], id="huge-integer"),
        ],
    )
    def test_no_warning(self, groups: list[str]) -> None:
        """Different numbers, and texts that are no number, are not warned of;
        a number too large for `decimal`, or for its digits to be written
        out, is read without error and at once."""
        assert not odd_groups(groups)

    def test_large_numbers_named_with_an_exponent(self) -> None:
        """`1e400` and `10e399` are one number, not written out in 401 digits."""
        odd = odd_groups(["1e400", "10e399"])
        assert odd.spelled == (("1E+400", frozenset({"1e400", "10e399"})),)

    @given(PLAIN_INTEGERS)
    def test_plain_integers_never_warned(self, groups: set[str]) -> None:
        """Integers written as JSON writes them are never one number twice."""
        assert not odd_groups(groups)

    @given(PLAIN_INTEGERS, st.integers(), st.integers(1, 5))
    def test_zero_padded_copy_always_warned(
        self, others: set[str], number: int, zeros: int
    ) -> None:
        """A number and a zero-padded copy of it (`17`, `0017`; `-17`, `-0017`)
        are always one number written two ways, among any other integers."""
        sign, digits = ("-", str(-number)) if number < 0 else ("", str(number))
        padded = f"{sign}{'0' * zeros}{digits}"
        odd = odd_groups({*others, str(number), padded})
        assert (str(number), frozenset({str(number), padded})) in odd.spelled
        assert len(odd.spelled) == 1

    @given(st.integers(), st.sampled_from([".0", ".00", "e0", "E+0", "0e-1"]))
    def test_same_integer_with_a_fraction_or_exponent_warned(
        self, number: int, suffix: str
    ) -> None:
        """`17` and `17.0`, `17e0`, `170e-1` are one number."""
        other = f"{number}{suffix}"
        odd = odd_groups([str(number), other])
        assert odd.spelled == ((str(number), frozenset({str(number), other})),)

    @given(st.sets(st.text(st.characters(categories=["L"]), min_size=1)))
    def test_names_of_letters_never_spellings(self, groups: set[str]) -> None:
        """Names of letters alone are never numbers (at most missing words)."""
        odd = odd_groups(groups)
        assert odd.spelled == ()
        assert odd.missing == {g for g in groups if g.casefold() in MISSING_WORDS}


class TestMissingWords:
    @pytest.mark.parametrize(
        "word",
        [
            *("nan", "NaN", "NAN", "NA", "na", "N/A", "n/a"),
            *("#N/A", "null", "NULL", "None", "none"),
        ],
    )
    def test_missing_words_in_any_case(self, word: str) -> None:
        """What pandas, R or a spreadsheet writes for a missing patient is found."""
        odd = odd_groups([word, "P1", "17"])
        assert (odd.spelled, odd.missing) == ((), frozenset({word}))

    @pytest.mark.parametrize("word", ["Nana", "N/A1", "NULLA", "Nonet", "nan 2"])
    def test_names_holding_such_words_are_names(self, word: str) -> None:
        """Only the whole word is a missing value."""
        assert not odd_groups([word])


class TestMessages:
    def test_spellings_name_values_entries_and_the_fix(self) -> None:
        """Each value, its first entries (3, and how many more), and the one way
        to write it."""
        odd = odd_groups(["17", "0017", "17.0", "5", "5.0"])
        where = {
            "0017": ["row 2", "row 3", "row 4", "row 5"],
            "5.0": ["row 6"],
            "17": ["row 7"],
            "17.0": ["row 8"],
            "5": ["row 9"],
        }
        counts = {"0017": 6, "5.0": 1, "17": 1, "17.0": 1, "5": 1}
        text = spellings_message("PatientID", odd, where, counts, consequence="so")
        assert text == (
            "the group field `PatientID` holds one number written several ways: "
            "`0017` (row 2, row 3, row 4 and 3 more), `17` (row 7) and `17.0` (row "
            "8) are 17; `5.0` (row 6) and `5` (row 9) are 5; group values are "
            "compared as text, so; if they are one patient, write the number one "
            "way in every entry (such as `17`, not `0017` or `17.0`)"
        )
        assert missing_message("PatientID", odd, where, counts, consequence="so") is (
            None
        )

    def test_several_missing_words(self) -> None:
        """Each word is counted, with its first entries, in the order they come."""
        odd = odd_groups(["NaN", "P1", "N/A"])
        where = {"N/A": ["train.3"], "NaN": ["test.0", "test.4"]}
        text = missing_message(
            "2", odd, where, {"N/A": 1, "NaN": 2}, consequence="they stay"
        )
        assert text == (
            "the group field `2` holds `N/A` in 1 entry (train.3) and `NaN` in 2 "
            "entries (test.0, test.4), which read as missing values, not as "
            "patients, yet each is one group (one patient) of all the entries "
            "holding it; they stay"
        )
        assert spellings_message("2", odd, where, {}, consequence="so") is None
