"""Fault suite, bad files: a malformed configuration (`msp cycle start --config`) or file of shares (`msp funds
assess --file`) gives one error line naming the file and the place (line, field), exit code 2, never a traceback.

The error comes before `msp` connects: TEMPORAL_ADDRESS points at a closed port on 127.0.0.1, where a connection
attempt would end with exit code 3, so exit code 2 also proves nothing was sent. Most cases run the command in this
process (typer's runner: milliseconds each); a few run the real `msp` console script as an operator would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tests.support.devserver import config_text, msp, process_env
from tests.support.offline import CLOSED, assess, invoke

TODAY = date(2027, 3, 1)
GOOD_CONFIG = config_text("ccm", TODAY) + (
    "\n[states_parties]\n"
    'names = ["Austria", "Chile", "Mexico"]\n'
    'article7 = ["Chile"]\n'
    "\n[[reviews]]\n"
    'subject = "hosting-agreement"\n'
    'title = "the agreement hosting the ISU"\n'
    'mandate = { decided_by = "2nd Review Conference", reference = "CCM/CONF/2021/6" }\n'
    'due = { kind = "date", on = 2031-09-15 }\n'
)
GOOD_SHARES = "state,share_percent\nAustria,40\nChile,30\nMexico,20\nNorway,10\n"


def edit(old: str, new: str) -> Callable[[str], str]:
    def apply(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)

    return apply


def append(extra: str) -> Callable[[str], str]:
    return lambda text: text + extra


# (case id, how the good file is spoiled, a regex the one error line must match after "<file>:")
CONFIG_CASES: list[tuple[str, Callable[[str], str] | bytes, str]] = [
    (
        "not-toml-unclosed-array",
        append("\nx = [\n"),
        r"^(\d+: )?not valid TOML: .*(line \d+|end of document)",
    ),
    ("not-toml-missing-value", edit('kind = "MSP"', "kind = "), r"not valid TOML: .*line 14"),
    ("not-toml-duplicate-key", edit('kind = "MSP"', 'kind = "MSP"\nkind = "RC"'), r"not valid TOML: .*line"),
    ("not-toml-bad-table", edit("[meeting]", "[meeting"), r"not valid TOML: .*line 12"),
    ("empty-file", lambda _: "", r"^the file is empty"),
    ("wrong-type-number", edit("number = 14", 'number = "fourteen"'), r"^13: meeting\.number: "),
    ("wrong-type-kind", edit('kind = "MSP"', "kind = 3"), r"^14: meeting\.kind: "),
    ("unknown-kind", edit('kind = "MSP"', 'kind = "XYZ"'), r"^14: meeting\.kind: .*'MSP'"),
    (
        "wrong-type-president",
        edit(
            'president = { state = "Austria", representative = "Ambassador A. Example" }',
            'president = "Austria"',
        ),
        r"^\d+: presidency\.",
    ),
    (
        "designates-not-a-list",
        edit("designates = [", 'designates = "Chile"\n# ['),
        r"^8: presidency\.designates: ",
    ),
    ("unknown-field-top", append("\n[extras]\nanswer = 42\n"), r"^\d+: extras: .*[Ee]xtra"),
    ("unknown-field-nested", edit('kind = "MSP"', 'kind = "MSP"\nchairs = 2'), r"^15: meeting\.chairs: "),
    (
        "bad-date-text",
        edit("term_began_on = 2026-12-31", 'term_began_on = "31/12/2026"'),
        r"^6: presidency\.term_began_on: ",
    ),
    ("bad-date-29-feb", edit("start = 2027-03-31", "start = 2027-02-29"), r"not valid TOML: .*line 17"),
    ("bad-date-month-13", edit("end = 2027-04-03", "end = 2027-13-03"), r"not valid TOML: .*line 18"),
    ("part-ends-before-start", edit("end = 2027-04-03", "end = 2027-03-20"), r"^1[5-8]: meeting\.parts"),
    (
        "meeting-before-term",
        edit("term_began_on = 2026-12-31", "term_began_on = 2027-12-31"),
        r"^17: meeting\.parts\[0\]\.start: ",
    ),
    ("wrong-meeting-number", edit("number = 14", "number = 16"), r"^13: meeting\.number: .*number 14"),
    (
        "designate-is-president",
        edit('{ state = "Chile", representative = "Ambassador B. Example" }', '{ state = "Austria" }'),
        r"^8: presidency\.designates\[0\]: .*President",
    ),
    (
        "article7-not-in-names",
        edit('article7 = ["Chile"]', 'article7 = ["Chile", "Atlantis"]'),
        r"^\d+: states_parties\.article7\[1\]: Atlantis is not in",
    ),
    (
        "name-twice",
        edit('"Mexico"]', '"Mexico", "chile"]'),
        r"^\d+: states_parties\.names\[3\]: chile is listed twice",
    ),
    ("reminder-days-out-of-range", append(""), r""),  # replaced below: needs the [states_parties] table
    ("review-bad-due-kind", edit('kind = "date", on', 'kind = "someday", on'), r"^\d+: reviews\[0\]\.due"),
    ("review-twice", lambda t: t + t[t.index("[[reviews]]") :], r"^\d+: reviews\[1\]\.subject: .*twice"),
    (
        "huge-string",
        edit('name = "Convention on Cluster Munitions"', f'name = "{"x" * 100_000}"'),
        r"^3: convention\.name: ",
    ),
    ("unicode-junk-code", edit('code = "ccm"', 'code = "c\u00e7m\U0001f4a3"'), r"^2: convention\.code: "),
    ("null-byte", edit('code = "ccm"', 'code = "c\x00m"'), r"not valid TOML: .*line 2"),
    ("binary-garbage", bytes(range(256)) * 4, r"^2: not UTF-8 text"),
    (
        "latin-1",
        '[convention]\nname = "Convention sur les armes \u00e0 sous-munitions"\n'.encode("latin-1"),
        r"^2: not UTF-8 text",
    ),
    ("utf-16", GOOD_CONFIG.encode("utf-16"), r"^1: not UTF-8 text"),
]
CONFIG_CASES[[c[0] for c in CONFIG_CASES].index("reminder-days-out-of-range")] = (
    "reminder-days-out-of-range",
    edit('article7 = ["Chile"]', 'article7 = ["Chile"]\narticle7_reminder_days = [60, 400]'),
    r"^\d+: states_parties\.article7_reminder_days: .*1 to 180",
)

SHARES_CASES: list[tuple[str, str | bytes, str]] = [
    ("empty-file", "", r"^1: the file is empty"),
    ("only-blank-lines", "\n\n   \n", r"^1: the file is empty"),
    ("header-only", "state,share_percent\n", r"^1: no States after the header"),
    ("missing-header", "Austria,40\nChile,30\n", r"^1: column 1: unknown column 'austria'"),
    ("header-missing-column", "state\nAustria\n", r"^1: share_percent: missing column"),
    ("header-twice-column", "state,state\nAustria,Chile\n", r"^1: state: the column appears twice"),
    (
        "bad-number-comma",
        'state,share_percent\nAustria,"1,5"\n',
        r"^2: share_percent: not a number \('1,5'\)",
    ),
    (
        "bad-number-text",
        "state,share_percent\nAustria,40\nChile,thirty\n",
        r"^3: share_percent: not a number",
    ),
    ("bad-number-nan", "state,share_percent\nAustria,nan\n", r"^2: share_percent: not a number"),
    ("bad-number-inf", "state,share_percent\nAustria,inf\n", r"^2: share_percent: not a number"),
    ("bad-number-exponent", "state,share_percent\nAustria,1e400\n", r"^2: share_percent: not a number"),
    ("zero-share", "state,share_percent\nAustria,0\n", r"^2: share_percent: must be more than 0"),
    ("negative-share", "state,share_percent\nAustria,-3\n", r"^2: share_percent: must be more than 0"),
    ("share-over-100", "state,share_percent\nAustria,140\n", r"^2: share_percent: must be at most 100"),
    ("shares-sum-over-100", GOOD_SHARES + "Spain,0.5\n", r"^6: share_percent: the shares reach 100\.5000%"),
    (
        "duplicate-state",
        GOOD_SHARES + "austria ,1\n",
        r"^6: state: austria appears twice \(first as 'Austria' on line 2\)",
    ),
    ("empty-state", "state,share_percent\n ,10\n", r"^2: state: empty"),
    ("huge-state", f"state,share_percent\n{'A' * 100_000},1\n", r"^2: state: longer than 200 characters"),
    ("missing-cell", "state,share_percent\nAustria,40\nChile\n", r"^3: share_percent: missing"),
    ("extra-cell", "state,share_percent\nAustria,40,extra\n", r"^2: column 3: extra value 'extra'"),
    ("unclosed-quote", 'state,share_percent\n"Austria,40\nChile,30\n', r"^2: not valid CSV"),
    ("binary-garbage", bytes(range(256)) * 4, r"^2: not UTF-8 text"),
    ("latin-1", "state,share_percent\nC\u00f4te d'Ivoire,0.01\n".encode("latin-1"), r"^2: not UTF-8 text"),
    ("utf-16", GOOD_SHARES.encode("utf-16"), r"^1: not UTF-8 text"),
]


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def one_error_line(code: int, out: str, err: str, path: Path) -> str:
    """The single line on stderr, with the file's name taken off the front."""
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    assert not out.strip(), out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{path}:"), lines[0]
    return lines[0][len(str(path)) + 1 :].lstrip()


def test_the_good_files_are_good(tmp_path: Path):
    """The cases below each spoil a file that is otherwise accepted (up to the connection: exit 3)."""
    config = write(tmp_path / "cycle.toml", GOOD_CONFIG)
    code, _, err = invoke(["cycle", "start", "--config", str(config)])
    assert code == 3 and CLOSED in err, err
    shares = write(tmp_path / "shares.csv", GOOD_SHARES)
    code, _, err = invoke(assess(shares))
    assert code == 3 and CLOSED in err, err


@pytest.mark.parametrize(
    ("spoil", "expected"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES]
)
def test_a_bad_config_names_the_place(tmp_path: Path, spoil: Callable[[str], str] | bytes, expected: str):
    path = tmp_path / "bad.toml"
    write(path, spoil if isinstance(spoil, bytes) else spoil(GOOD_CONFIG))
    line = one_error_line(*invoke(["cycle", "start", "--config", str(path)]), path)
    assert re.search(expected, line), line
    assert len(line) < 400, line  # a 100 kB value is not echoed back whole


@pytest.mark.parametrize(
    ("content", "expected"), [c[1:] for c in SHARES_CASES], ids=[c[0] for c in SHARES_CASES]
)
def test_a_bad_file_of_shares_names_the_place(tmp_path: Path, content: str | bytes, expected: str):
    path = write(tmp_path / "bad.csv", content)
    line = one_error_line(*invoke(assess(path)), path)
    assert re.search(expected, line), line
    assert len(line) < 400, line


async def test_the_real_msp_command_exits_2_with_one_line(tmp_path: Path):
    """The console script itself (its own exit path, os._exit), for a few of the cases above."""
    env = process_env(CLOSED, "tq-unused")
    cases: list[tuple[str, str | bytes, list[str]]] = [
        ("bad.toml", b"\xff\xfe[convention]\n", ["cycle", "start", "--config"]),
        ("bad2.toml", GOOD_CONFIG.replace('kind = "MSP"', 'kind = "XYZ"'), ["cycle", "start", "--config"]),
        (
            "bad.csv",
            "state,share_percent\nAustria,abc\n",
            ["funds", "assess", "--due", "2027-06-30", "--file"],
        ),
    ]
    for name, content, subcommand in cases:
        path = write(tmp_path / name, content)
        run = await msp(env, *subcommand, str(path), *(["--ref", "r"] if "funds" in subcommand else []))
        one_error_line(run.code, run.out, run.err, path)
