"""What may be decided on an extension request, as pure functions: each raises ``Rejected`` naming the rule of the
treaty or of the procedure, and the workflow's validator calls the same function as its handler."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.bounds import TEXT_MAX
from domain.calendar import clock, describe_months, local_date, local_text, months_later
from domain.decisions import Rejected
from domain.extensions import (
    DEADLINE_LEADS_MONTHS,
    ENDED,
    MAX_MONTHS,
    MONTHS_AHEAD,
    OPEN,
    Analysis,
    Article,
    Decide,
    DecisionTaken,
    DeclareCompletion,
    ExtensionRequest,
    ExtensionState,
    Grant,
    MeetingSeen,
    ProposeBySilence,
    Status,
)
from domain.models import Defaults, Phase
from domain.reviews import Cadence, Reminder


def check_analysis(s: ExtensionState, a: Analysis) -> None:
    if s.status not in (Status.IN_ANALYSIS, Status.ANALYSED):
        raise Rejected(f"The request is {_status_text(s)}: an analysis comes before the decision.")
    if a.recommended_months is not None:
        _within_limits(s, a.recommended_months, "recommend")


def check_keep(s: ExtensionState, today: date) -> None:
    if s.moved_from is None:
        raise Rejected(f"The request was on time for the {s.meeting.label}: it has not been moved.")
    if s.status not in OPEN:
        raise Rejected(f"The request is {_status_text(s)} already.")
    if s.moved_from.first_day < today:
        raise Rejected(
            f"The {s.moved_from.label} opened on {s.moved_from.first_day}: it is too late to keep it there."
        )


def check_decide(s: ExtensionState, d: Decide) -> None:
    """A decision at the meeting, before the meeting itself is looked at; raises Rejected naming the rule."""
    _decidable(s, d)


def check_in_session(s: ExtensionState, seen: MeetingSeen, now: datetime, defaults: Defaults) -> None:
    """The meeting that considers the request sits now: only then is a decision entered there."""
    if seen.plan is not None and seen.closed_on is None:
        if clock(seen.plan, now, defaults).phase is Phase.IN_SESSION:
            return
        where = (
            f"{clock(seen.plan, now, defaults).phase.value.replace('_', ' ')}: {seen.plan.describe_dates()}"
        )
    elif seen.closed_on is not None:
        where = f"it closed on {seen.closed_on}"
    else:
        expected = s.meeting.first_day
        where = (
            f"it has not been convened yet; first day expected {expected}"
            if expected >= local_date(now, defaults)
            else f"it has not been convened; its first day was expected on {expected}"
        )
    raise Rejected(
        f"The {s.meeting.label} is not in session ({where}). A decision on the request is entered while the "
        "meeting that considers it sits, or taken between meetings by silence procedure."
    )


def check_silence(s: ExtensionState, p: ProposeBySilence, now: datetime) -> None:
    _decidable(s, p)
    if p.deadline <= now:
        raise Rejected(
            f"The deadline of a silence procedure must be still to come, not {local_text(p.deadline)}."
        )
    if (length := len(silence_proposal(s, p)) + 1) > TEXT_MAX:
        raise Rejected(
            f"The proposal would run to {length:,} characters, more than the {TEXT_MAX:,} a silence procedure "
            "circulates: shorten the benchmarks."
        )


def _decidable(s: ExtensionState, g: Grant) -> None:
    if s.status is Status.IN_ANALYSIS:
        raise Rejected(
            f"{s.group[:1].upper()}{s.group[1:]} has not reported on this request yet: the decision comes after its "
            "analysis (msp extensions analyse)."
        )
    if s.status is Status.UNDER_SILENCE:
        raise Rejected(f"The request is under silence procedure {s.silence}: wait for its outcome.")
    if s.status is not Status.ANALYSED:
        raise Rejected(f"The request is {_status_text(s)} already.")
    if g.granted:
        months = g.months or s.request.requested_months
        _within_limits(s, months, "grant")
    elif g.months is not None or g.benchmarks:
        raise Rejected("A request not granted has no period and no benchmarks.")


def _within_limits(s: ExtensionState, months: int, verb: str) -> None:
    art = s.request.article
    if months > MAX_MONTHS[art]:
        raise Rejected(
            f"Article {art.value} allows an extension of at most {describe_months(MAX_MONTHS[art])}; "
            f"cannot {verb} {describe_months(months)}."
        )
    if months > s.request.requested_months:
        raise Rejected(
            f"{s.request.state} asked for {describe_months(s.request.requested_months)}: the meeting may grant "
            f"a shorter period, not a longer one ({describe_months(months)})."
        )


def taken(s: ExtensionState, g: Grant, by: str, reference: str, on: date) -> DecisionTaken:
    months = (g.months or s.request.requested_months) if g.granted else None
    return DecisionTaken(
        granted=g.granted,
        months=months,
        new_deadline=months_later(s.request.current_deadline, months) if months else None,
        benchmarks=list(g.benchmarks),
        by=by,
        reference=reference,
        on=on,
    )


def check_completion(s: ExtensionState, c: DeclareCompletion, today: date) -> None:
    if s.status in ENDED:
        raise Rejected(f"The request is {_status_text(s)} already.")
    if c.completed_on > today:
        raise Rejected(f"Completion cannot be declared for {c.completed_on}, a day still to come.")


def still_passed(s: ExtensionState, cadence: Cadence) -> Reminder:
    """The next reminder of a deadline passed without a declaration of completion, at ``cadence`` from the notice
    that it passed (numbered from it, so none is sent twice)."""
    key = f"deadline:{s.deadline}:passed"
    n = 1 + max((int(r.key.rsplit(":", 1)[1]) for r in s.sent if r.key.startswith(f"{key}:")), default=0)
    days = cadence.offset(n)
    what = f"{s.request.state}'s deadline under Article {s.request.article.value} to {s.request.article.obligation}"
    return Reminder(
        key=f"{key}:{n}",
        on=s.deadline + timedelta(days=days),
        kind="deadline-overdue",
        text=f"Still, {days} days on: {what} ({s.deadline}) has passed without a declaration of completion.",
    )


def deadline_reminders(s: ExtensionState, after: date | None = None) -> list[Reminder]:
    """Reminders before the deadline in force, then the notice that it has passed; keys make each one once."""
    req, deadline = s.request, s.deadline
    what = f"{req.state}'s deadline under Article {req.article.value} to {req.article.obligation}"
    out = [
        Reminder(
            key=f"deadline:{deadline}:{lead}m",
            on=months_later(deadline, -lead),
            kind="deadline-reminder",
            text=f"{what} is {deadline}, in {describe_months(lead)}. A further request must reach the ISU at "
            f"least {MONTHS_AHEAD} months before the meeting that considers it"
            + (", and before the deadline." if req.article is Article.ART4 else "."),
        )
        for lead in DEADLINE_LEADS_MONTHS
    ]
    out.append(
        Reminder(
            key=f"deadline:{deadline}:passed",
            on=deadline,
            kind="deadline-passed",
            text=f"{what} ({deadline}) has passed without a declaration of completion.",
        )
    )
    return [r for r in out if after is None or r.on >= after]


def _status_text(s: ExtensionState) -> str:
    return s.status.value.replace("_", " ")


# The words a rule needs: who asks (in every text), and what a silence procedure would circulate (bounded).


def who(req: ExtensionRequest) -> str:
    return f"{req.state} (Article {req.article.value})"


def silence_proposal(s: ExtensionState, g: Grant) -> str:
    """What a silence procedure on the request proposes (without the final full stop)."""
    what = "grant " + describe_months(g.months or s.request.requested_months) if g.granted else "not grant"
    proposal = f"To {what} the extension requested by {who(s.request)} ({s.request.reference})"
    if g.benchmarks:
        proposal += ", with benchmarks: " + "; ".join(g.benchmarks)
    return proposal
