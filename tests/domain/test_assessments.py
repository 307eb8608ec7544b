"""The ISU's file of assessed shares: what is read, and every refusal naming file:line and the column."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.assessments import SharesError, parse_shares
from domain.funds import Assess

REPO = Path(__file__).resolve().parents[2]


def refused(text: str) -> str:
    with pytest.raises(SharesError) as e:
        parse_shares(text, "shares.csv")
    assert isinstance(e.value, ValueError)
    message = str(e.value)
    assert "\n" not in message
    return message


def test_reads_states_and_shares_in_order():
    text = (
        'state,share_percent\nAustria,40\n"Korea, Republic of", 30.5 \n\nChile,20%\n# a comment\nNorway,.5\n'
    )
    shares = parse_shares(text, "shares.csv")
    assert shares == {"Austria": 40.0, "Korea, Republic of": 30.5, "Chile": 20.0, "Norway": 0.5}
    assert list(shares) == ["Austria", "Korea, Republic of", "Chile", "Norway"]


def test_header_in_another_order_with_a_bom_and_crlf():
    text = "\ufeffShare_Percent , State\r\n12.5,Austria\r\n87.5,Chile\r\n"
    assert parse_shares(text, "s.csv") == {"Austria": 12.5, "Chile": 87.5}


def test_a_total_of_exactly_100_with_rounding_is_accepted():
    text = "state,share_percent\n" + "".join(f"S{i},{100 / 3:.10f}\n" for i in range(3))
    assert sum(parse_shares(text, "s.csv").values()) == pytest.approx(100)


def test_the_example_file_adds_up_to_100_and_the_ledger_accepts_it():
    path = REPO / "config" / "shares-example.csv"
    shares = parse_shares(path.read_text(encoding="utf-8"), str(path))
    assert len(shares) == 13 and "Austria" in shares  # docs/commands.md's `msp funds pay --state Austria`
    assert sum(shares.values()) == pytest.approx(100, abs=1e-6)
    Assess(decision_id="a", reference="CCM/MSP/2027/2", shares=shares, due="2027-06-30")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "\ufeff"])
def test_an_empty_file(text: str):
    assert refused(text).startswith("shares.csv:1: the file is empty")


# Each refused, naming the file, the line and the column: (test id, text, what the message starts with).
REFUSALS = [
    ("a-header-without-states", "state,share_percent\n", "shares.csv:1: no States"),
    ("a-missing-column-in-the-header", "state\nAustria\n", "shares.csv:1: share_percent: missing column"),
    (
        "an-extra-column-in-the-header",
        "state,share_percent,notes\nAustria,10,x\n",
        "shares.csv:1: column 3: unknown column 'notes'",
    ),
    ("a-column-named-twice", "state,state\nA,B\n", "shares.csv:1: state: the column appears twice"),
    (
        "a-missing-value-on-a-line",
        "state,share_percent\nAustria,10\nChile\n",
        "shares.csv:3: share_percent: missing",
    ),
    (
        "an-extra-value-on-a-line",
        "state,share_percent\nAustria,10\nChile,1,5\n",
        "shares.csv:3: column 3: extra value '5'",
    ),
    (
        "a-state-named-twice-whatever-the-case",
        "state,share_percent\nAustria,10\nChile,10\n  austria ,5\n",
        "shares.csv:4: state: austria appears twice (first as 'Austria' on line 2)",
    ),
    ("an-empty-state", "state,share_percent\n  ,10\n", "shares.csv:2: state: empty"),
    (
        "a-total-over-100-names-the-line-where-it-goes-over",
        "state,share_percent\nAustria,60\nChile,30\nMexico,10.5\nNorway,1\n",
        "shares.csv:4: share_percent: the shares reach 100.5000% with Mexico",
    ),
    ("a-quoted-field-left-open", 'state,share_percent\n"Austria,10\n', "shares.csv:2: not valid CSV"),
]


@pytest.mark.parametrize(
    ("text", "starts"), [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS]
)
def test_a_refusal_names_the_line_and_the_column(text: str, starts: str):
    msg = refused(text)
    assert msg.startswith(starts), msg


@pytest.mark.parametrize("value", ["abc", "1,5", "nan", "inf", "1e2", "1_0", ""])
def test_a_share_that_is_not_a_number(value: str):
    msg = refused(f'state,share_percent\n# States\nAustria,"{value}"\n')
    assert msg.startswith("shares.csv:3: share_percent: not a number"), msg
    assert repr(value) in msg


@pytest.mark.parametrize(
    ("value", "says"), [("0", "more than 0"), ("-3", "more than 0"), ("100.5", "at most 100")]
)
def test_a_share_out_of_range(value: str, says: str):
    msg = refused(f"state,share_percent\nAustria,{value}\n")
    assert msg.startswith("shares.csv:2: share_percent: must be"), msg
    assert says in msg
