"""`msp` refuses an oversized or out-of-window input before sending anything (exit 2, one line naming the option,
quoting at most about 80 characters of what it was given), and escapes control characters in what it prints.

Each command is run in process against an address where nothing listens: reaching the server would exit 3, so an
exit 2 shows the input was refused before any connection."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import typer

from domain import search_attributes as sa
from domain.bounds import MAX_STATES
from domain.models import MeetingFormat
from starter.cli.common import echo, run
from starter.cli.status import status_text
from tests.support.cycle_helpers import initial_state, part
from tests.support.offline import assess, invoke
from tests.support.requests import submit_art4

HUGE = "x" * 100_000  # a command line takes about 128 kB per argument


def refused(args: list[str]) -> str:
    """The one line on stderr of a command refused before sending."""
    code, out, err = invoke(args)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert len(lines[0]) < 300, lines[0]  # never the whole input echoed back
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["funds", "pay", "--state", "Austria", "--amount", "5", "--ref", HUGE],
            "--ref: String should have at most 500",
        ),
        (
            ["funds", "pay", "--state", HUGE, "--amount", "5", "--ref", "r"],
            "--state: String should have at most 200",
        ),
        (
            ["funds", "pay", "--state", "Mex\x00ico", "--amount", "5", "--ref", "r"],
            "--state: control character U+0000",
        ),
        (
            ["funds", "estimate", "--amount", "1000000001", "--ref", "r"],
            "--amount: Input should be less than or equal",
        ),
        (
            [
                "docs",
                "submit",
                "--symbol",
                "CCM/MSP/2027/3",
                "--title",
                "T",
                "--pages",
                "1",
                "--due",
                "0001-01-01",
            ],
            "--due: 0001-01-01 is outside the dates the engine handles (2008-01-01 to 2200-12-31)",
        ),
        (
            [
                "docs",
                "submit",
                "--symbol",
                "CCM/MSP/2027/3",
                "--title",
                HUGE,
                "--pages",
                "1",
                "--due",
                "2027-08-15",
            ],
            "--title",
        ),
        (["docs", "delivered", "CCM/" + HUGE, "--lang", "fr"], "SYMBOL: String should match pattern"),
        (
            ["decide", "set-dates", "--start", "9999-12-31", "--ref", "r"],
            "--start: 9999-12-31 is outside the dates",
        ),
        (["decide", "postpone", "--to", "9999-12-31", "--ref", "r"], "--to: 9999-12-31 is outside the dates"),
        # The ISU's decisions check the convention as every other group does (once an uncaught error).
        (
            ["isu", "pay", "--state", "Austria", "--amount", "5", "--ref", "r", "--convention", "Bad Code!"],
            "--convention: String should match pattern",
        ),
        (
            ["isu", "reserve-target", "--amount", "5", "--ref", "r", "--convention", "Bad Code!"],
            "--convention: String should match pattern",
        ),
        (
            ["decide", "add-part", "--start", "9999-12-31", "--days", "2", "--ref", "r"],
            "--start: 9999-12-31 is outside",
        ),
        (
            ["decide", "designate", "--state", "\x1b]0;pwned\x07", "--ref", "r"],
            "--state: control character U+001B",
        ),
        (
            [
                "extensions",
                "submit",
                "--state",
                "Lao People's Democratic Republic",
                "--article",
                "4",
                "--years",
                "5",
            ]
            + ["--plan", "Survey", "--ref", "CCM/MSP/2019/4", "--entry-into-force", "9990-01-01"],
            "--entry-into-force: 9990-01-01 is outside the dates the engine handles",
        ),
        (
            ["extensions", "submit", "--state", "Atlantis", "--article", "4", "--years", "5"]
            + ["--plan", "Survey", "--ref", "CCM/MSP/2019/4", "--entry-into-force", "2010-08-01"],
            "--state: 'Atlantis' is not a State Party in states_parties.names",
        ),
        (["silence", "break", "budget", "--state", "Chile", "--reason", HUGE], "--reason"),
        (
            ["reports", "received", "--state", "Chile", "--year", "2027", "--ref", "r", "--on", "9999-01-01"],
            "--on: 9999",
        ),
        (
            ["sponsorship", "apply", "--state", "Peru", "--delegate", "A B", "--function", "Expert"]
            + ["--travel-cost", "50001", "--ref", "form"],
            "--travel-cost: Input should be less than or equal to 50000",
        ),
        (
            ["sponsorship", "apply", "--state", "Peru", "--delegate", HUGE, "--function", "Expert"]
            + ["--travel-cost", "3000", "--ref", "form"],
            "--delegate: String should have at most 200 characters",
        ),
        (["sponsorship", "contribute", "--donor", "Norway", "--amount", "0", "--ref", "r"], "--amount"),
        (
            # Once refused with a traceback (exit 5): the check ran outside the command's error handling.
            ["extensions", "decide", "--state", "Chile", "--article", "4", "--ref", "r"]
            + ["--grant-years", "1", "--grant-months", "2"],
            "--grant-years/--grant-months: give years or months, not both",
        ),
    ],
)
def test_an_input_out_of_bounds_is_refused_before_sending(args: list[str], expected: str):
    line = refused(args)
    assert line.startswith(expected), line
    assert "x" * 100 not in line, line


def test_an_assessment_file_of_more_rows_than_states_is_refused_naming_the_line(tmp_path: Path):
    # The case: a valid 12,000-row file (2.4 MB) that once blocked the ledger for 20 s.
    rows = "".join(f"State number {i:05d} of a long list of States,0.008\n" for i in range(12_000))
    shares = tmp_path / "shares.csv"
    shares.write_text("state,share_percent\n" + rows)
    line = refused(assess(shares))
    assert (
        line
        == f"{shares}:{MAX_STATES + 2}: more than {MAX_STATES} States: an assessment has one row per State"
    )


def test_the_extension_state_matches_in_any_width():
    wide = "ＬＡＯ ＰＥＯＰＬＥ'Ｓ ＤＥＭＯＣＲＡＴＩＣ ＲＥＰＵＢＬＩＣ"
    args = submit_art4(wide, date(2010, 8, 1), "--years", "5", "--plan", "Survey", "--ref", "r")
    code, _, err = invoke(list(args))
    assert code == 3, err  # matched, then the (closed) server was asked


def test_what_msp_prints_shows_control_characters_escaped(capsys: pytest.CaptureFixture[str]):
    echo("accepted: \x1b]0;pwned\x07 Chile\u009b[2J\nnext line")
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u009b" not in out
    assert out == "accepted: \\u001b]0;pwned\\u0007 Chile\\u009b[2J\nnext line\n"
    # JSON stays JSON: the escapes are JSON's own.
    echo(json.dumps({"state": "Chile\u009b\u202e"}, ensure_ascii=False))
    assert json.loads(capsys.readouterr().out) == {"state": "Chile\u009b\u202e"}


def test_status_tables_keep_their_lines():
    from datetime import date

    state = initial_state("ccm", date(2027, 1, 1), [part(date(2027, 9, 13), format=MeetingFormat.HYBRID)])
    text = status_text(state, "ccm-meeting-14MSP", None, "not started")
    assert len(text.splitlines()) > 10


def test_a_value_no_visibility_query_can_match_ends_msp_as_bad_input(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def listing() -> int:
        sa.query(sa.Kind.REPORT, "ccm", state="'Chile")
        return 0

    with pytest.raises(typer.Exit) as e:
        run(listing)
    assert e.value.exit_code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("CcmState: ") and line.endswith("which a visibility query cannot match"), line
