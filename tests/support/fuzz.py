"""What the fault suite's fuzzers share (tests/faults/): hypothesis strategies for plain payloads, junk and edge
values, the Article 4 request every fuzzed extension starts from, and the check that no workflow task failed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.testing import WorkflowEnvironment

from domain.extensions import ExtensionRequest
from tests.support.requests import art4

# --- what goes into a payload ---------------------------------------------------------------------------------


def mostly(
    good: st.SearchStrategy[Any], other: st.SearchStrategy[Any], tenths: int
) -> st.SearchStrategy[Any]:
    """``good`` about ``tenths``/10 of the time, else ``other`` (hypothesis's one_of does not weigh by repeats)."""
    return st.sampled_from(range(10)).flatmap(lambda i: good if i < tenths else other)


EDGE_DATES = st.sampled_from(
    [
        "2028-02-29", "2027-02-29", "2100-02-29", "2000-02-29", "0001-01-01", "9999-12-31", "9999-12-25",
        "10000-01-01", "0000-00-00", "2027-13-01", "2027-04-31", "1970-01-01", "", "today", "2027/09/13",
        "2027-09-13T10:00:00Z", "  2027-09-13 ",
    ]
)  # fmt: skip
HUGE = st.builds(
    lambda c, n: c * n, st.sampled_from(["x", "\u00e9", "\U0001f4a3", " ", "\u202e"]), st.just(100_000)
)
UNICODE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=40)
SCALAR_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    UNICODE,
    HUGE,
    EDGE_DATES,
)
JUNK = st.one_of(
    SCALAR_JUNK,
    st.lists(SCALAR_JUNK, max_size=3),
    st.dictionaries(
        st.text(max_size=8),
        st.one_of(SCALAR_JUNK, st.dictionaries(st.text(max_size=4), SCALAR_JUNK, max_size=2)),
        max_size=3,
    ),
)


def dates_around(day: date) -> st.SearchStrategy[str]:
    near = st.integers(min_value=-400, max_value=800).map(lambda n: str(day + timedelta(days=n)))
    return mostly(near, st.one_of(st.dates().map(str), EDGE_DATES), 7)


DECISION_ID = mostly(
    st.uuids().map(lambda u: f"fz-{u.hex[:12]}"), st.from_regex(r"[\w.:/@+-]{1,140}", fullmatch=True), 8
)
REFERENCE = mostly(
    st.sampled_from(["CCM/MSP/2027/5 para 12", "letter of 3 May"]), st.one_of(UNICODE, HUGE), 8
)
STATE = mostly(
    st.sampled_from(
        [
            "Chile",
            "Mexico",
            "Norway",
            "Austria",
            " austria ",
            "C\u00f4te d'Ivoire",
            "Lao People's Democratic Republic",
        ]
    ),
    UNICODE,
    8,
)
PRESIDENT = st.fixed_dictionaries({"state": STATE}, optional={"representative": st.one_of(st.none(), STATE)})
SMALL_INT = mostly(st.integers(min_value=1, max_value=10), st.integers(min_value=-3, max_value=14), 8)
FORMAT = st.sampled_from(["in_person", "hybrid", "virtual", "IN_PERSON", "online"])


def payloads(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Mostly dicts of the decision's fields, each well-formed or junk; some with a field missing or an extra
    one; some not a dict at all."""
    mixed = {k: mostly(v, JUNK, 9) for k, v in fields.items()}
    complete = st.fixed_dictionaries(mixed)
    dropped = st.fixed_dictionaries({}, optional=mixed)
    extra = st.fixed_dictionaries(mixed, optional={"unexpected": JUNK, "decision_Id": JUNK})
    return mostly(complete, st.one_of(dropped, extra, JUNK), 7)


def art4_request(today: date, state: str) -> ExtensionRequest:
    """An Article 4 request submitted today for five more years, by a state whose ten years end within a year."""
    eif = today.replace(year=today.year - 9, day=1)
    plan = "Survey and clearance of cluster munition remnants, province by province."
    return art4(state, eif, today, plan, "CCM/MSP/2027/4")


async def no_failed_tasks(env: WorkflowEnvironment, *workflow_ids: str) -> None:
    """No workflow task failed in any run of these workflows, except the server's own refusal of a task that
    completed the workflow while a new update had just arrived (UNHANDLED_COMMAND: the worker simply runs the
    next task, with the update)."""
    for wid in workflow_ids:
        failed: list[str] = []
        async for event in env.client.get_workflow_handle(wid).fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                a = event.workflow_task_failed_event_attributes
                if a.cause != WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND:
                    failed.append(f"{WorkflowTaskFailedCause.Name(a.cause)}: {a.failure.message}")
        assert failed == [], (wid, failed)


def against_a_server(examples: int) -> settings:
    """Hypothesis driving workflows on a server: no deadline (a workflow answers in its own time), no database, and
    no shrinking: a failure is reported at once, as generated (shrinking would send hundreds more)."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
