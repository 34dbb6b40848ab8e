"""Errors raised while provisioning or running local Connect workers and brokers.

Each message names what is missing or wrong and what to do about it.
"""

from __future__ import annotations


class WorkerError(Exception):
    """Base of every error of connect_worker."""

    # The init step's termination message starts with this, so the operator can name the failure in the
    # KafkaConnect's Ready condition without parsing prose (connect_operator.status.initfailures).
    reason = "WorkerInitFailed"


class RuntimeMissingError(WorkerError):
    """No usable Connect runtime: no java, a missing jar, no Debian Jetty, or nothing fetched yet."""


class FetchError(WorkerError):
    """Downloading or verifying a pinned artifact failed."""


class PortInUseError(WorkerError):
    """A port this process was asked to listen on is already taken."""


class BrokerUnavailableError(WorkerError):
    """No Kafka broker answered at the given bootstrap servers."""


class WorkerStartError(WorkerError):
    """A worker or broker process exited or did not become ready in time."""


class PropertiesError(WorkerError):
    """Worker properties asked for something this project owns or cannot express."""


class PluginError(WorkerError):
    """A plugin artifact could not be downloaded, verified or unpacked; the message names plugin and artifact."""

    reason = "PluginInstallFailed"


class InitError(WorkerError):
    """The worker Pod's init step cannot produce a configuration."""
