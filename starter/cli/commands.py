"""How a command group declares its commands once the options every command of the group takes are known:
``Decisions`` for the decisions sent to a workflow, ``Views`` for what is shown as text or with --json.

Each command is a function of its own options; the group adds its shared ones (``--id``, ``--meeting``,
``--convention``...) to the signature typer reads, so they are declared, helped and defaulted in one place.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import typer
from temporalio.workflow import UpdateMethodMultiParam

from domain.decisions import DecisionOutcome
from starter.cli.common import OK, ConventionOpt, IdOpt, JsonOpt, MeetingOpt, decided, echo, echo_json, run
from starter.cli.send import Locate, send_to

Fields = dict[str, Any]
Options = Callable[..., Fields]


def option(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    """An option (or argument) a group's commands share, declared as a parameter of each."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


DECISION_ID = option("decision_id", IdOpt, None)
MEETING = option("meeting", MeetingOpt, None)
CONVENTION = option("convention", ConventionOpt, "ccm")
JSON = option("as_json", JsonOpt, False)
# The options after a decision's own in a group whose decisions go to a meeting's workflow (or one of its own).
MEETING_TAIL = (DECISION_ID, MEETING, CONVENTION)


def register(
    app: typer.Typer,
    name: str,
    declared: Callable[..., Any],
    command: Callable[..., None],
    params: list[inspect.Parameter],
) -> None:
    """Registers ``command`` as ``name``, with the options ``params`` and the help of ``declared``."""
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = declared.__doc__
    app.command(name)(command)


def own(declared: Callable[..., Any], shared: tuple[inspect.Parameter, ...] = ()) -> list[inspect.Parameter]:
    """The options the function declares itself (the ``shared`` ones it names are declared by its group)."""
    names = {p.name for p in shared}
    params = inspect.signature(declared, eval_str=True).parameters.values()
    return [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params if p.name not in names]


@dataclass(frozen=True)
class Decisions:
    """The decision commands of a group, each declared by a function of its own options that returns the
    decision's fields (``reference`` among them). Every command is given the group's options too: ``lead``
    before its own (the argument naming the workflow), ``tail`` after (``--id`` and ``--convention`` among them).
    It sends its decision where ``where`` finds the workflow: from the convention, and the group's options other
    than ``--id`` and ``--convention`` by name."""

    app: typer.Typer
    where: Callable[..., Locate]
    tail: tuple[inspect.Parameter, ...] = (DECISION_ID, CONVENTION)
    lead: tuple[inspect.Parameter, ...] = ()

    def command(
        self, name: str, update: UpdateMethodMultiParam[[Any, Any], DecisionOutcome], model: type[Any]
    ) -> Callable[[Options], Options]:
        """Registers the function as the command ``name``: the group's options around its own; its docstring."""

        def declare(options: Options) -> Options:
            def command(**given: Any) -> None:
                decision_id, convention = given.pop(DECISION_ID.name), given.pop(CONVENTION.name)
                shared = (*self.lead, *self.tail)
                place = {p.name: given.pop(p.name) for p in shared if p not in (DECISION_ID, CONVENTION)}
                send_to(
                    convention,
                    update,
                    lambda conv: self.where(conv, **place),
                    lambda: decided(model, decision_id, **options(**given)),
                )

            register(self.app, name, options, command, [*self.lead, *own(options), *self.tail])
            return options

        return declare


class Shown(NamedTuple):
    """What a view command found, to print as JSON (``json``'s value) or as text (``text``'s lines)."""

    json: Callable[[], Any]
    text: Callable[[], str]


View = Callable[..., Awaitable[Shown]]


@dataclass(frozen=True)
class Views:
    """The commands of a group that show something, each declared by an async function of its options that finds
    it and returns it ``Shown``. Every command is given ``--json`` after its own options, then ``tail``; the
    function names those of ``tail`` it needs among its parameters (the group declares them)."""

    app: typer.Typer
    tail: tuple[inspect.Parameter, ...] = (CONVENTION,)
    json: inspect.Parameter = JSON

    def command(self, name: str) -> Callable[[View], View]:
        """Registers the function as the command ``name``, printing what it returns; its docstring."""

        def declare(view: View) -> View:
            wanted = inspect.signature(view).parameters

            def command(**given: Any) -> None:
                as_json = given.pop(self.json.name)

                async def go() -> int:
                    shown = await view(**{k: v for k, v in given.items() if k in wanted})
                    if as_json:
                        echo_json(shown.json())
                    else:
                        echo(shown.text())
                    return OK

                run(go)

            register(self.app, name, view, command, [*own(view, self.tail), self.json, *self.tail])
            return view

        return declare
