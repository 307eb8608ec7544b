"""docker-compose.yml, checked without a Docker engine.

A real compose implementation, Debian's docker-compose 1.29 (``make test`` installs it), must accept the file
(``docker-compose config`` validates it offline); the search attributes its setup job registers must be those of
``domain/search_attributes.py``; every image version must come from ``.env``; and a broken copy must be refused,
so the validation is known to bite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

from domain import search_attributes as sa

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
ENV_FILE = REPO / ".env"
# What docker-compose.yml refers to by a relative path, copied along with it for the broken copies.
PROJECT_FILES = ("docker-compose.yml", ".env", "Dockerfile", "config/temporal-dynamicconfig.yaml")

SERVICES = {"postgresql", "temporal-schema", "temporal", "temporal-setup", "temporal-ui", "worker"}
# service -> (the service it waits for, the condition)
WAITS_FOR = {
    "temporal-schema": ("postgresql", "service_healthy"),
    "temporal": ("temporal-schema", "service_completed_successfully"),
    "temporal-setup": ("temporal", "service_healthy"),
    "temporal-ui": ("temporal", "service_healthy"),
    "worker": ("temporal-setup", "service_completed_successfully"),
}


def docker_compose() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        pytest.fail(
            "docker-compose is not installed: run `make test`, which installs it "
            "(Debian's docker-compose package: apt-get install docker-compose)"
        )
    return path


def compose(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``docker-compose`` on ``project``'s docker-compose.yml and .env. `config` contacts no Docker engine; the
    environment is reduced so that the shell's TEMPORAL_*, POSTGRES_* or DOCKER_HOST change nothing."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [
            docker_compose(),
            "--project-directory",
            str(project),
            "-f",
            str(project / "docker-compose.yml"),
            *args,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def as_data(yaml_text: str) -> Any:
    """docker-compose 1.29 prints its configuration as YAML only, and the venv has no YAML parser: read it with
    the one docker-compose runs on (PyYAML, one of its dependencies), through its script's interpreter."""
    first_line = Path(docker_compose()).read_bytes().split(b"\n", 1)[0]
    if not first_line.startswith(b"#!"):
        pytest.fail(
            f"{docker_compose()} is not the Python docker-compose: run `make test` (apt-get install docker-compose)"
        )
    interpreter = first_line[2:].decode().split()
    parsed = subprocess.run(
        [*interpreter, "-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
        input=yaml_text,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert parsed.returncode == 0, parsed.stderr
    return json.loads(parsed.stdout)


def resolved(*args: str) -> dict[str, Any]:
    result = compose(REPO, "config", *args)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = as_data(result.stdout)
    return data


def env_file(path: Path = ENV_FILE) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def command_text(service: dict[str, Any]) -> str:
    parts = [service.get("entrypoint") or [], service.get("command") or []]
    return "\n".join(p if isinstance(p, str) else "\n".join(p) for p in parts)


def test_docker_compose_accepts_the_file_with_every_variable_set():
    result = compose(REPO, "config", "--quiet")
    assert result.returncode == 0, result.stderr
    # An unset variable is only a warning to docker-compose: here it would mean .env lacks one.
    assert "is not set" not in result.stderr, result.stderr
    assert set(resolved()["services"]) == SERVICES


def test_each_service_waits_for_the_one_before_it():
    services = resolved()["services"]
    for name, (needed, condition) in WAITS_FOR.items():
        assert services[name]["depends_on"][needed]["condition"] == condition, name
        if condition == "service_healthy":
            assert services[needed]["healthcheck"]["test"], (
                f"{needed} has no health check for {name} to wait on"
            )
    assert "pg_isready" in " ".join(services["postgresql"]["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data:rw") for v in services["postgresql"]["volumes"])
    assert services["worker"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert services["worker"]["environment"]["TEMPORAL_NAMESPACE"] == env_file()["TEMPORAL_NAMESPACE"]


def test_the_schema_job_creates_and_updates_both_stores():
    text = command_text(resolved()["services"]["temporal-schema"])
    for db in ("temporal", "temporal_visibility"):
        for step in ("create", "setup-schema -v 0.0", "update-schema -d"):
            assert re.search(rf"--db {db} {re.escape(step)}", text), (db, step)


def test_the_setup_job_registers_every_search_attribute_once():
    text = command_text(resolved()["services"]["temporal-setup"])
    registered = Counter(re.findall(r"search-attribute create\b[^\n]*?--name\s+(\w+)\s+--type\s+(\w+)", text))
    flags = sa.cli_flags()
    expected = Counter(tuple(pair.split("=")) for pair in flags[1::2])
    assert len(expected) == len(sa.ALL)
    assert registered == expected
    assert "namespace create" in text


# The custom search attribute columns of SQL visibility (PostgreSQL here, SQLite under `make run`): schema/postgresql/
# v12/visibility/schema.sql of temporalio/temporal v1.30.1 has Int01-03, Double01-03, ..., Keyword01-10. One more of a
# type fails the setup job and `make run` alike.
SQL_SLOTS = {"Bool": 3, "Datetime": 3, "Double": 3, "Int": 3, "Keyword": 10, "KeywordList": 3, "Text": 3}


def test_the_search_attributes_fit_the_slots_of_sql_visibility():
    used = Counter(key.indexed_value_type.name for key in sa.ALL)
    names = {"BOOL": "Bool", "DATETIME": "Datetime", "DOUBLE": "Double", "INT": "Int", "KEYWORD": "Keyword"}
    names |= {"KEYWORD_LIST": "KeywordList", "TEXT": "Text"}
    over = {names[t]: n for t, n in used.items() if n > SQL_SLOTS[names[t]]}
    assert not over, (
        f"more search attributes than SQL visibility has columns for: {over} (slots: {SQL_SLOTS})"
    )


def test_every_image_is_pinned_by_a_variable_of_env():
    pinned = env_file()
    services = resolved("--no-interpolate")["services"]
    images = {name: s["image"] for name, s in services.items() if "image" in s}
    assert set(images) == SERVICES - {"worker"}
    for name, image in images.items():
        m = re.fullmatch(r"[\w./-]+:\$\{(\w+)(?::\?[^}]*)?\}", image)
        assert m, f"{name}: {image} is not pinned by a ${{VARIABLE}} of .env"
        assert pinned.get(m[1]) not in (None, "", "latest"), f"{name}: {m[1]} is not pinned in .env"
    # The worker is built from the Dockerfile, on a base image whose version comes from .env too.
    build_arg = services["worker"]["build"]["args"]["PYTHON_VERSION"]
    assert re.fullmatch(r"\$\{PYTHON_VERSION(?::\?[^}]*)?\}", build_arg) and pinned["PYTHON_VERSION"]
    assert re.search(r"^FROM python:\$\{PYTHON_VERSION\}-slim$", (REPO / "Dockerfile").read_text(), re.M)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    for name in PROJECT_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def test_an_unbroken_copy_is_accepted(project_copy: Path):
    """The control for the next test: a copy elsewhere is accepted, so what fails there is the break."""
    result = compose(project_copy, "config", "--quiet")
    assert result.returncode == 0, result.stderr


BREAKS = {
    "a dependency on a service that does not exist": (
        "docker-compose.yml",
        "      temporal-setup:\n        condition: service_completed_successfully",
        "      temporal-set-up:\n        condition: service_completed_successfully",
        "undefined",
    ),
    "a condition compose does not know": (
        "docker-compose.yml",
        "condition: service_healthy",
        "condition: service_ready",
        "invalid",
    ),
    "a misspelt option": ("docker-compose.yml", "stop_grace_period:", "stop_grace_periode:", "invalid"),
    "a YAML syntax error": (
        "docker-compose.yml",
        'entrypoint: ["/bin/sh", "-c"]',
        'entrypoint: ["/bin/sh", "-c"',
        "yaml",
    ),
    "a version missing from .env": (".env", "TEMPORAL_VERSION=", "# TEMPORAL_VERSION=", "TEMPORAL_VERSION"),
}


@pytest.mark.parametrize("case", BREAKS, ids=lambda c: c.replace(" ", "-"))
def test_a_broken_copy_is_refused(project_copy: Path, case: str):
    name, old, new, message = BREAKS[case]
    path = project_copy / name
    text = path.read_text()
    assert old in text, f"the break no longer applies to {name}: {old!r}"
    path.write_text(text.replace(old, new))
    result = compose(project_copy, "config", "--quiet")
    assert result.returncode != 0, f"docker-compose accepted {case}"
    assert message.lower() in result.stderr.lower(), result.stderr


# The setup job's script, run for real: against the dev server, through a `temporal` that fails the first calls of
# each step, as a server whose port is open but whose membership ring is not ready yet answers.

FLAKY_TEMPORAL = """#!/bin/sh
# Fails the first {fails} calls of each distinct command line, then runs the real CLI.
key=$(echo "$*" | cksum | cut -d' ' -f1)
count_file="{counts}/$key"
n=$(cat "$count_file" 2>/dev/null || echo 0)
echo $((n + 1)) > "$count_file"
if [ "$n" -lt {fails} ]; then
  echo "Error: unable to reach the cluster: membership not ready (call $((n + 1)))" >&2
  exit 1
fi
exec {real} "$@"
"""


async def test_the_setup_job_tries_each_step_again_until_the_server_answers(tmp_path: Path):
    from starter.embedded.devserver import TEMPORAL
    from tests.support.devserver import dev_server

    service = resolved()["services"]["temporal-setup"]
    assert service["entrypoint"] == ["/bin/sh", "-c"]
    # `config` prints the file as compose reads it again: `$$` (a literal `$`) stays escaped.
    [script] = [c.replace("$$", "$") for c in service["command"]]
    bin_dir, counts = tmp_path / "bin", tmp_path / "counts"
    bin_dir.mkdir()
    counts.mkdir()
    fake = bin_dir / "temporal"
    fake.write_text(FLAKY_TEMPORAL.format(fails=2, counts=counts, real=TEMPORAL))
    fake.chmod(0o755)
    async with dev_server() as server:
        env = {
            **{k: str(v) for k, v in service["environment"].items()},
            "TEMPORAL_ADDRESS": server.address,
            "SETUP_PAUSE": "0",
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(tmp_path),
        }
        done = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "not ready yet (attempt 2 of 30): temporal operator cluster health" in done.stdout, done.stdout
        assert "not ready yet (attempt 2 of 30): namespace" in done.stdout, done.stdout
        assert "not ready yet (attempt 2 of 30): temporal operator search-attribute create" in done.stdout
        namespace = env["TEMPORAL_NAMESPACE"]
        listed = await server.client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        assert {k: v for k, v in listed.custom_attributes.items() if k.startswith("Ccm")} == {
            k.name: k.indexed_value_type.value for k in sa.ALL
        }
        # Run again on a server where it was all done: each step succeeds (first tries aside), nothing changes.
        again = subprocess.run(
            ["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=300
        )
        assert again.returncode == 0, again.stdout + again.stderr
    # A step that never succeeds gives up after SETUP_ATTEMPTS, saying which.
    env["SETUP_ATTEMPTS"] = "3"
    gone = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert gone.returncode != 0
    assert "gave up after 3 attempts: temporal operator cluster health" in gone.stderr, gone.stderr
