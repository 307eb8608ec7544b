"""The worker's metrics and traces, each on only when configured.

- ``CCM_METRICS_ADDRESS`` (``host:port``, e.g. ``127.0.0.1:9464``): the SDK runtime serves Prometheus metrics at
  ``http://host:port/metrics``, the SDK's own and the engine's counters (workflows/metrics.py). Unset: none.
- ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the standard variable, e.g. ``http://collector:4318``): spans of the client
  calls, workflows, updates, signals and activities go by OTLP/HTTP to ``<endpoint>/v1/traces``, through the SDK's
  ``OpenTelemetryPlugin``. The other standard ``OTEL_*`` variables (headers, service name, ...) apply. Unset:
  nothing of OpenTelemetry is set up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from temporalio.client import Plugin
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from runtime.settings import SettingError, host_port

if TYPE_CHECKING:
    from temporalio.contrib.opentelemetry import ReplaySafeTracerProvider

METRICS_ADDRESS_ENV = "CCM_METRICS_ADDRESS"
OTLP_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE_NAME = "ccm-worker"


def metrics_runtime(address: str) -> Runtime:
    """A runtime serving Prometheus metrics on ``address``; the clients and workers built on it report there."""
    host_port(address, METRICS_ADDRESS_ENV)
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    except Exception as e:  # the address is taken, or not one of this machine's
        raise SettingError(f"{METRICS_ADDRESS_ENV}={address}: cannot serve metrics there: {e}") from None


def runtime_from_env(env: Mapping[str, str] | None = None) -> Runtime | None:
    address = (os.environ if env is None else env).get(METRICS_ADDRESS_ENV, "").strip()
    return metrics_runtime(address) if address else None


@dataclass
class Tracing:
    """The client plugins that trace, and ``shutdown()`` that flushes the spans not yet sent."""

    plugins: list[Plugin] = field(default_factory=list)
    provider: ReplaySafeTracerProvider | None = None

    def shutdown(self) -> None:
        """Sends the spans still batched, then stops exporting; the worker calls it once it has stopped."""
        if self.provider is not None:
            self.provider.shutdown()
            self.provider = None


def tracing_from_env() -> Tracing:
    """OpenTelemetry through the SDK's plugin when an OTLP endpoint is configured; nothing otherwise.

    The tracer provider must be the process's global one, made by ``create_tracer_provider`` (replay-safe: no
    span is exported again when a workflow replays); OpenTelemetry takes only the first global provider set.
    """
    if not os.environ.get(OTLP_ENDPOINT_ENV, "").strip():
        return Tracing()
    # Imported only when asked for, so a worker without tracing loads nothing of OpenTelemetry.
    import opentelemetry.trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME as SERVICE_NAME_KEY
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from temporalio.contrib.opentelemetry import OpenTelemetryPlugin, create_tracer_provider

    # Resource.create reads OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES; ours is the default name.
    resource = Resource.create({SERVICE_NAME_KEY: os.environ.get("OTEL_SERVICE_NAME", SERVICE_NAME)})
    provider = create_tracer_provider(resource=resource)
    # The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS, _TIMEOUT, ...) and posts to <endpoint>/v1/traces.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    opentelemetry.trace.set_tracer_provider(provider)
    return Tracing(plugins=[OpenTelemetryPlugin(add_temporal_spans=True)], provider=provider)
