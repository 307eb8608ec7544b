"""ExtensionRequestWorkflow: one request under Article 3 or 4, from submission to decision, then its deadline."""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain import extension_rules as rules
    from domain import extension_texts as texts
    from domain import search_attributes as sa
    from domain.bounds import md
    from domain.calendar import day_start, describe_months, local_date, local_text
    from domain.decisions import DecisionOutcome, Rejected
    from domain.extensions import (
        ENDED,
        LOOK_UP_MEETING,
        SUPERSEDED,
        WATCHING,
        Analysis,
        Decide,
        DecisionTaken,
        DeclareCompletion,
        ExtensionInput,
        ExtensionState,
        Grant,
        KeepAtMeeting,
        MeetingLookup,
        MeetingSeen,
        ProposeBySilence,
        Status,
        assign,
        check_request,
    )
    from domain.ids import silence_id
    from domain.notifications import Notification
    from domain.reviews import DEFAULT_CADENCE, Reminder
    from domain.silence import SILENCE_ENDED, SilenceInput, SilenceOutcome
    from domain.views import extension_details
    from workflows.common import (
        ATTENTION_ALL,
        FAIL_ON_INVALID_INPUT,
        notify,
        reminder_due,
        signal_payload,
        start_input,
    )
    from workflows.deadlines import DeadlineEnds
    from workflows.decisions import Rule, Shows, check, decision, rejected
    from workflows.silence import SilenceProcedureWorkflow

# The Presidency waits for the answer: the meeting is asked briefly, and a failure is a clear no.
# From this patch on, a deadline passed without a declaration of completion is reminded of at the default cadence
# (weekly for four weeks, then every 30 days) until completion or a further request; before it, once (issue 16).
PASSED_CADENCE = "extension-passed-cadence"
LOOKUP_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)


@workflow.defn(failure_exception_types=FAIL_ON_INVALID_INPUT)
class ExtensionRequestWorkflow(DeadlineEnds, Shows[ExtensionState]):
    @workflow.init
    def __init__(self, inp: ExtensionInput) -> None:
        self.inp = start_input(inp, ExtensionInput)
        super().__init__(assign(inp))
        self.defaults = inp.defaults
        # The grant a running silence procedure would adopt.
        self.proposal: ProposeBySilence | None = None
        # Notifications a handler owes (handlers must not wait on a webhook): sent by the main loop.
        self.outbox: list[tuple[str, str]] = []
        self.passed_cadence: bool | None = None

    @workflow.run
    async def run(self, inp: ExtensionInput) -> ExtensionState:
        self.attends = workflow.patched(ATTENTION_ALL)
        today = self._today()
        try:
            state = check_request(inp.request, inp.meeting, today, inp.states_parties, inp.aliases)
        except Rejected as e:
            self.s.status = Status.REJECTED
            self.s.rejected = str(e)
            self._refresh()
            await self._notify(
                "rejected", f"The extension request of {rules.who(self.s.request)} cannot be received: {e}"
            )
            return self.s
        # The State as the list of States Parties names it (any case or width given).
        self.s.request = self.s.request.model_copy(update={"state": state})
        self._refresh()
        if inp.previous:
            await self._tell_previous(inp.previous)
        await self._notify("submitted", texts.submitted_text(self.s))
        started = today
        while self.s.status not in ENDED:
            while self.outbox:
                await self._notify(*self.outbox.pop(0))
            version = self.version
            reminder = self._next_reminder(started) if self.s.status in WATCHING else self._still_passed()
            self.s.upcoming = reminder
            self._refresh()
            if reminder is None:
                await workflow.wait_condition(lambda v=version: self.version != v)  # type: ignore[misc]
                continue
            if not await reminder_due(reminder, self.defaults, lambda v=version: self.version != v):  # type: ignore[misc]
                continue
            if reminder.kind == "deadline-passed":
                self.s.status = Status.EXPIRED
            await self._send(reminder)
            self._changed()
        self.s.upcoming = None
        self._refresh()
        await workflow.wait_condition(workflow.all_handlers_finished)
        while self.outbox:
            await self._notify(*self.outbox.pop(0))
        return self.s

    def _still_passed(self) -> Reminder | None:
        """Past its deadline with no completion declared: reminded at a cadence (PASSED_CADENCE), asked once."""
        if self.s.status is not Status.EXPIRED:
            return None
        if self.passed_cadence is None:
            self.passed_cadence = workflow.patched(PASSED_CADENCE)
        return rules.still_passed(self.s, DEFAULT_CADENCE) if self.passed_cadence else None

    def _next_reminder(self, started: date) -> Reminder | None:
        sent = {r.key for r in self.s.sent}
        owed = [
            r
            for r in rules.deadline_reminders(self.s)
            if r.key not in sent and (r.on >= started or r.kind == "deadline-passed")
        ]
        return owed[0] if owed else None

    # Decisions. Each validator runs the same pure rule as its handler, so a rejection changes nothing.

    @decision
    def analyse(self, a: Analysis) -> Rule[None]:
        return Rule(lambda: rules.check_analysis(self.s, a), lambda _: self._analysed(a))

    def _analysed(self, a: Analysis) -> str:
        revised = self.s.analysis is not None
        self.s.analysis = a
        self.s.status = Status.ANALYSED
        summary = f"{'revised ' if revised else ''}analysis of {self.s.group} entered ({a.reference})"
        if a.reported_by:
            summary += f", reported by {a.reported_by}"
        if a.recommended_months:
            summary += f"; it recommends {describe_months(a.recommended_months)}"
        return summary

    @decision
    def keep_at_meeting(self, k: KeepAtMeeting) -> Rule[None]:
        return Rule(lambda: rules.check_keep(self.s, self._today()), lambda _: self._kept(k))

    def _kept(self, k: KeepAtMeeting) -> str:
        assert self.s.moved_from is not None
        self.s.meeting, self.s.moved_from = self.s.moved_from, None
        return f"the late request stays before the {self.s.meeting.label} ({k.reference})"

    @workflow.update
    async def decide(self, d: Decide) -> DecisionOutcome:
        if (done := self.decisions.repeat(d.decision_id)) is not None:
            return done
        check(lambda: rules.check_decide(self.s, d))
        seen = await self._look_up_meeting()
        # Another decision may have been taken while the meeting was asked.
        if (done := self.decisions.repeat(d.decision_id)) is not None:
            return done
        check(lambda: rules.check_decide(self.s, d))
        check(lambda: rules.check_in_session(self.s, seen, workflow.now(), self.defaults))
        t = self._take(d, f"the {self.s.meeting.label}", d.reference)
        return self.decisions.accept(d, texts.decided_summary(self.s, t))

    @decide.validator
    def _check_decide(self, d: Decide) -> None:
        self.decisions.validate(d, lambda: rules.check_decide(self.s, d))

    @workflow.update
    async def put_to_silence(self, p: ProposeBySilence) -> DecisionOutcome:
        if (done := self.decisions.repeat(p.decision_id)) is not None:
            return done
        check(lambda: rules.check_silence(self.s, p, workflow.now()))
        wid = silence_id(self.inp.convention, p.procedure_id)
        proposal = rules.silence_proposal(self.s, p)
        # Marked before the child starts, so that a second proposal meanwhile is refused.
        self.s.status, self.s.silence = Status.UNDER_SILENCE, wid
        self._changed()
        try:
            await workflow.start_child_workflow(
                SilenceProcedureWorkflow.run,
                SilenceInput(
                    convention=self.inp.convention,
                    procedure_id=p.procedure_id,
                    proposal=proposal + ".",
                    reference=p.reference,
                    initiator=p.initiator,
                    deadline=p.deadline,
                    states_parties=p.states_parties,
                    aliases=p.aliases,
                    roster=p.roster,
                    concerns=workflow.info().workflow_id,
                    webhook=self.inp.webhook,
                    defaults=self.defaults,
                ),
                id=wid,
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=md(" ".join(proposal.split())[:200]),
            )
        except Exception as e:  # the id is taken by another procedure: nothing changes
            self.s.status, self.s.silence = Status.ANALYSED, None
            self._changed()
            raise rejected(f"The silence procedure {wid} could not start: {e}") from None
        self.proposal = p
        until = local_text(p.deadline, self.defaults)
        self.s.silence_log.append(f"{wid}: circulated, silence until {until}")
        return self.decisions.accept(p, f"put to silence procedure {wid} until {until}")

    @put_to_silence.validator
    def _check_put_to_silence(self, p: ProposeBySilence) -> None:
        self.decisions.validate(p, lambda: rules.check_silence(self.s, p, workflow.now()))

    @workflow.signal(name=SILENCE_ENDED)
    def silence_ended(self, o: SilenceOutcome) -> None:
        if not signal_payload(o, SilenceOutcome, SILENCE_ENDED):
            return
        if o.workflow_id != self.s.silence or self.s.status is not Status.UNDER_SILENCE:
            return
        p = self.proposal
        if o.adopted and p is not None:
            self.s.silence_log.append(f"{o.workflow_id}: adopted at {local_text(o.at, self.defaults)}")
            self._take(p, f"silence procedure {o.workflow_id}", p.reference)
        else:
            self.s.silence_log.append(
                f"{o.workflow_id}: not adopted, silence broken by {o.broken_by}: {o.reason}"
                if o.broken_by
                else f"{o.workflow_id}: not adopted"
            )
            self.s.status = Status.ANALYSED
            self.outbox.append(
                (
                    f"silence-broken:{o.workflow_id}",
                    texts.silence_broken_text(self.s, o.workflow_id, o.broken_by, o.reason),
                )
            )
        self.s.silence = None
        self.proposal = None
        self._changed()

    def _completion_rule(self, c: DeclareCompletion) -> None:
        rules.check_completion(self.s, c, self._today())

    def _completed(self, c: DeclareCompletion) -> str:
        self.s.status = Status.COMPLETED
        self.s.completed_on = c.completed_on
        return f"{self.s.request.state} declared completion on {c.completed_on} ({c.reference})"

    def _superseded(self, by: str) -> None:
        if self.s.status not in ENDED:
            self.s.status = Status.SUPERSEDED
            self.s.superseded_by = by
            self._changed()

    @workflow.query
    def state(self) -> ExtensionState:
        return self.s

    # Internals.

    def _today(self) -> date:
        return local_date(workflow.now(), self.defaults)

    def _take(self, g: Grant, by: str, reference: str) -> DecisionTaken:
        t = rules.taken(self.s, g, by, reference, self._today())
        self.s.decision = t
        self.s.status = Status.GRANTED if t.granted else Status.NOT_GRANTED
        if t.new_deadline is not None:
            self.s.deadline = t.new_deadline
        self.outbox.append((f"decided:{t.by}", texts.decided_text(self.s, t)))
        return t

    async def _look_up_meeting(self) -> MeetingSeen:
        try:
            seen: MeetingSeen = await workflow.execute_activity(
                LOOK_UP_MEETING,
                MeetingLookup(convention=self.inp.convention, meeting=self.s.meeting.label),
                result_type=MeetingSeen,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=LOOKUP_RETRY,
                summary=f"is the {self.s.meeting.label} in session?",
            )
            return seen
        except ActivityError as e:
            raise rejected(
                f"The {self.s.meeting.label} could not be asked whether it is in session ({e.cause}); "
                "nothing was decided, try again."
            ) from None

    async def _tell_previous(self, previous: str) -> None:
        try:
            await workflow.get_external_workflow_handle(previous).signal(
                SUPERSEDED, workflow.info().workflow_id
            )
        except Exception as e:  # the earlier request has ended: nothing to stop
            workflow.logger.info("earlier request %s not told: %s", previous, e)

    async def _send(self, r: Reminder) -> None:
        await self._notify(r.key, r.text, kind=r.kind, due=self.s.deadline)
        self.s.sent.append(r)

    async def _notify(self, key: str, text: str, kind: str | None = None, due: date | None = None) -> None:
        wid = workflow.info().workflow_id
        note = Notification(
            webhook=self.inp.webhook,
            idempotency_key=f"{wid}:{key}",
            text=text,
            kind=kind or key,
            due=(due or self.s.deadline).isoformat(),
            subject=wid,
        )
        if await notify(note, f"{kind or key}: {rules.who(self.s.request)}", self.s.undeliverable) is None:
            self._refresh()

    def _refresh(self) -> None:
        self._upsert_kind(
            sa.Kind.EXTENSION,
            self.inp.convention,
            sa.STATE.value_set(self.s.request.state),
            sa.ARTICLE.value_set(self.s.request.article.value),
            sa.MEETING.value_set(self.s.meeting.label),
            sa.PHASE.value_set(self.s.status.value),
            sa.DUE_DATE.value_set(day_start(self.s.deadline, self.defaults)),
            undeliverable=bool(self.s.undeliverable),
            flags={sa.OVERDUE: self.s.status is Status.EXPIRED} if self.attends else None,
        )
        workflow.set_current_details(extension_details(self.s))
