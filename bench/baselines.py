"""The baselines' workflows, each the trivial counterpart of what a benchmark measures. In a module of their own,
which imports next to nothing, because the sandbox imports a workflow's module again for every run: the benchmarks
themselves import what they like."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.decisions import DecisionOutcome, ReplaceDesignate


@workflow.defn(name="BenchNoOp")
class NoOp:
    """A workflow that returns at once (the unit of work of bench.funds_release's baseline, and a warm-up)."""

    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn(name="BenchDecisionBaseline")
class Trivial:
    """An Update with a validator that checks one field and changes one counter (bench.decision_latency)."""

    def __init__(self) -> None:
        self.count = 0

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.update
    def decide(self, d: ReplaceDesignate) -> DecisionOutcome:
        self.count += 1
        return DecisionOutcome(decision_id=d.decision_id, summary=f"no-op {self.count}")

    @decide.validator
    def _check(self, d: ReplaceDesignate) -> None:
        if not d.decision_id:
            raise ValueError("no decision id")


@workflow.defn(name="BenchBareTimers")
class BareTimers:
    """``count`` timers one after the other, spread over ``span_days`` (bench.five_years)."""

    @workflow.run
    async def run(self, count: int, span_days: float) -> None:
        step = timedelta(days=span_days / max(count, 1))
        for _ in range(count):
            await workflow.sleep(step)


@workflow.defn(name="BenchBlockedOnTimer")
class Blocked:
    """An open workflow that waits on a timer (bench.worker_memory)."""

    @workflow.run
    async def run(self) -> None:
        await workflow.sleep(timedelta(days=30))

    @workflow.query
    def alive(self) -> bool:
        return True
