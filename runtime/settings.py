"""The Temporal connection settings, read through temporalio.envconfig and checked before anything connects.

envconfig (the settings the `temporal` CLI reads) already refuses a profile that is not in the config file and a
TLS file it cannot open, but its messages name neither the setting nor the file ("Profile 'prod' not found",
"No such file or directory: '/etc/tls/client.pem'"), and it takes a malformed address as it is: "localhost"
connects to port 80, "host:notaport" fails only at connect. The checks here name the setting an operator has to
fix: the environment variable when one gave the value, else the key of the profile in its file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from temporalio.envconfig import ClientConfig, ClientConfigProfile, ClientConfigTLS

CONFIG_FILE_ENV = "TEMPORAL_CONFIG_FILE"
PROFILE_ENV = "TEMPORAL_PROFILE"
ADDRESS_ENV = "TEMPORAL_ADDRESS"

# (field of ClientConfigTLS, environment variable, key in a TOML profile)
TLS_FILES = (
    ("client_cert", "TEMPORAL_TLS_CLIENT_CERT_PATH", "tls.client_cert_path"),
    ("client_private_key", "TEMPORAL_TLS_CLIENT_KEY_PATH", "tls.client_key_path"),
    ("server_root_ca_cert", "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "tls.server_ca_cert_path"),
)


class SettingError(ValueError):
    """A connection setting is wrong; the message names it."""


def config_file(env: Mapping[str, str]) -> Path:
    """The TOML profile file envconfig reads: TEMPORAL_CONFIG_FILE, else the `temporal` CLI's default."""
    if given := env.get(CONFIG_FILE_ENV):
        return Path(given)
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "temporalio" / "temporal.toml"


def host_port(value: str, setting: str) -> tuple[str, int]:
    """Splits ``host:port`` (``[v6]:port`` for IPv6), or raises SettingError naming ``setting``."""
    why = _address_problem(value)
    if why:
        raise SettingError(
            f"{setting}={value!r} is not a valid address: {why} (expected host:port, e.g. 127.0.0.1:7233)"
        )
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def _address_problem(value: str) -> str | None:
    if not value or value != value.strip() or any(c.isspace() for c in value):
        return "it is empty or contains spaces"
    if "://" in value:
        return "give host:port without a scheme"
    host, sep, port = value.rpartition(":")
    if not sep:
        return "it has no port"
    if not host or host == "[]":
        return "it has no host"
    if ":" in host and not (host.startswith("[") and host.endswith("]")):
        return "an IPv6 address goes in brackets, as [::1]:7233"
    if not port.isascii() or not port.isdigit():
        return f"the port {port!r} is not a number"
    if not 1 <= int(port) <= 65535:
        return f"the port {port} is not between 1 and 65535"
    return None


def client_connect_config(profile: str | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The keyword arguments of ``Client.connect`` from envconfig (``env``: the process environment by default),
    with every file and the address checked first. Raises SettingError naming the setting at fault."""
    environ: Mapping[str, str] = os.environ if env is None else env
    name = profile or environ.get(PROFILE_ENV) or "default"
    file = config_file(environ)
    where = f"profile '{name}' in {file}"
    if environ.get(CONFIG_FILE_ENV) and not file.exists():
        # envconfig silently ignores a config file that is not there.
        raise SettingError(f"{CONFIG_FILE_ENV}={file} does not exist")
    try:
        prof = ClientConfigProfile.load(profile=profile, override_env_vars=None if env is None else dict(env))
    except Exception as e:  # envconfig's ConfigError (bad TOML, unknown profile) and friends
        if profile is not None or environ.get(PROFILE_ENV):
            known = _profiles(file, environ)
            if known is not None and name not in known:
                origin = f"the profile '{name}'" if profile is not None else f"{PROFILE_ENV}={name}"
                if not file.is_file():
                    raise SettingError(
                        f"{origin}: there is no config file {file} (set {CONFIG_FILE_ENV})"
                    ) from None
                have = ", ".join(sorted(known)) or "none"
                raise SettingError(f"{origin}: no such profile in {file} (profiles there: {have})") from None
        raise SettingError(f"the Temporal connection settings ({where}) are invalid: {e}") from None
    if prof.address:
        setting = ADDRESS_ENV if environ.get(ADDRESS_ENV) else f"`address` of {where}"
        host_port(prof.address, setting)
    if prof.tls is not None:
        _check_tls_files(prof.tls, environ, where)
    try:
        return dict(prof.to_client_connect_config())
    except OSError as e:  # read between the check and here, or unreadable in a way the check did not see
        raise SettingError(f"a TLS file of {where} cannot be read: {e}") from None


def _profiles(file: Path, env: Mapping[str, str]) -> set[str] | None:
    if not file.is_file():
        return set()
    try:
        return set(ClientConfig.load(config_source=file, override_env_vars=dict(env)).profiles)
    except Exception:
        return None


def _check_tls_files(tls: ClientConfigTLS, env: Mapping[str, str], where: str) -> None:
    if tls.disabled is True:  # envconfig reads no file then
        return
    for field, var, key in TLS_FILES:
        path = getattr(tls, field)
        if not isinstance(path, Path):  # inline data, or not set
            continue
        setting = var if env.get(var) == str(path) else f"`{key}` of {where}"
        if not path.is_file():
            raise SettingError(f"{setting}: the file {path} does not exist")
        if not os.access(path, os.R_OK):
            raise SettingError(f"{setting}: the file {path} cannot be read")
