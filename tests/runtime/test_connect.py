"""Connection settings (temporalio.envconfig) that are wrong fail at start, with a message naming the setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtime.connect import ConnectError, connect, connect_config
from runtime.settings import SettingError, host_port
from runtime.telemetry import METRICS_ADDRESS_ENV, runtime_from_env
from tests.support.devserver import free_port


def env(tmp_path: Path, **vars: str) -> dict[str, str]:
    """Only these variables, and a config file of our own, so nothing of the machine's settings leaks in."""
    return {"HOME": str(tmp_path), "TEMPORAL_CONFIG_FILE": str(write_profiles(tmp_path)), **vars}


def write_profiles(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "temporal.toml"
    if not path.exists() or extra:
        path.write_text('[profile.default]\naddress = "127.0.0.1:7233"\n' + extra)
    return path


def error(tmp_path: Path, profile: str | None = None, **vars: str) -> str:
    with pytest.raises(ConnectError) as e:
        connect_config(profile, env(tmp_path, **vars))
    return str(e.value)


def test_a_good_profile_and_variables_pass(tmp_path):
    cert = tmp_path / "client.pem"
    cert.write_text("CERT")
    config = connect_config(
        None, env(tmp_path, TEMPORAL_NAMESPACE="ccm", TEMPORAL_TLS_CLIENT_CERT_PATH=str(cert))
    )
    assert config["target_host"] == "127.0.0.1:7233"
    assert config["namespace"] == "ccm"
    assert config["tls"].client_cert == b"CERT"


@pytest.mark.parametrize(
    "var",
    ["TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_PATH"],
)
def test_a_missing_tls_file_names_its_variable_and_path(tmp_path, var):
    missing = str(tmp_path / "nowhere" / "file.pem")
    message = error(tmp_path, **{var: missing})
    assert var in message
    assert missing in message


def test_a_missing_tls_file_in_a_profile_names_the_key_profile_and_file(tmp_path):
    missing = tmp_path / "ca.pem"
    path = write_profiles(
        tmp_path,
        f'[profile.cluster]\naddress = "t.example:7233"\n[profile.cluster.tls]\nserver_ca_cert_path = "{missing}"\n',
    )
    message = error(tmp_path, "cluster")
    assert "tls.server_ca_cert_path" in message
    assert "'cluster'" in message
    assert str(path) in message
    assert str(missing) in message


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("localhost", "no port"),
        ("host:notaport", "'notaport' is not a number"),
        ("host:99999", "not between 1 and 65535"),
        (":7233", "no host"),
        ("http://host:7233", "without a scheme"),
        ("::1:7233", "brackets"),
    ],
)
def test_a_malformed_address_names_TEMPORAL_ADDRESS(tmp_path, address, why):
    message = error(tmp_path, TEMPORAL_ADDRESS=address)
    assert f"TEMPORAL_ADDRESS={address!r}" in message
    assert why in message


def test_a_malformed_address_in_a_profile_names_its_key(tmp_path):
    write_profiles(tmp_path, '[profile.cluster]\naddress = "temporal.example"\n')
    message = error(tmp_path, "cluster")
    assert "`address` of profile 'cluster'" in message


def test_good_addresses():
    assert host_port("127.0.0.1:7233", "X") == ("127.0.0.1", 7233)
    assert host_port("[::1]:7233", "X") == ("::1", 7233)
    assert host_port("temporal.example.org:443", "X") == ("temporal.example.org", 443)


def test_an_unknown_profile_names_TEMPORAL_PROFILE_the_file_and_the_profiles_there(tmp_path):
    message = error(tmp_path, TEMPORAL_PROFILE="prod")
    assert "TEMPORAL_PROFILE=prod" in message
    assert str(tmp_path / "temporal.toml") in message
    assert "profiles there: default" in message


def test_an_unknown_profile_without_a_config_file(tmp_path):
    vars = {"HOME": str(tmp_path), "TEMPORAL_PROFILE": "prod"}
    with pytest.raises(ConnectError, match="TEMPORAL_PROFILE=prod: there is no config file"):
        connect_config(None, vars)


def test_a_config_file_that_is_not_there_names_TEMPORAL_CONFIG_FILE(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConnectError, match=f"TEMPORAL_CONFIG_FILE={missing} does not exist"):
        connect_config(None, {"HOME": str(tmp_path), "TEMPORAL_CONFIG_FILE": str(missing)})


def test_a_malformed_metrics_address_names_CCM_METRICS_ADDRESS():
    assert runtime_from_env({}) is None
    with pytest.raises(SettingError, match="CCM_METRICS_ADDRESS='9464'"):
        runtime_from_env({METRICS_ADDRESS_ENV: "9464"})


async def test_a_refused_connection_names_the_address(monkeypatch, tmp_path):
    for var in [v for v in os.environ if v.startswith("TEMPORAL_")]:
        monkeypatch.delenv(var)
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(write_profiles(tmp_path)))
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    with pytest.raises(ConnectError, match=f"cannot reach Temporal at {address}"):
        await connect()
