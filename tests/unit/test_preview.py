"""Reading the engine's preview digest (`pulumi preview --json --show-sames`) into priced steps."""

import os
import threading

import pytest

from leanstack.costing.preview import ALONGSIDE_NICENESS, alongside_engine, error_lines, steps_of

DIGEST = {
    "steps": [
        {"op": "same", "urn": "urn:pulumi:prod::leanstack::kubernetes:apps/v1:Deployment::api-deployment",
         "oldState": {"type": "kubernetes:apps/v1:Deployment", "inputs": {"kind": "Deployment", "spec": {"replicas": 1}}},
         "newState": {"type": "kubernetes:apps/v1:Deployment", "inputs": {"kind": "Deployment", "spec": {"replicas": 1}}}},
        {"op": "create", "urn": "urn:pulumi:prod::leanstack::kubernetes:core/v1:Service::api-svc",
         "newState": {"type": "kubernetes:core/v1:Service", "inputs": {"kind": "Service"}}},
        {"op": "delete", "urn": "urn:pulumi:prod::leanstack::kubernetes:core/v1:Secret::old",
         "oldState": {"type": "kubernetes:core/v1:Secret", "inputs": {"kind": "Secret"}}},
    ],
    "changeSummary": {"same": 1, "create": 1, "delete": 1},
}


def test_every_step_keeps_its_old_and_new_inputs_and_type():
    same, create, delete = steps_of(DIGEST)
    assert (same.op, same.type, same.old, same.new) == ("same", "kubernetes:apps/v1:Deployment",
                                                         {"kind": "Deployment", "spec": {"replicas": 1}},
                                                         {"kind": "Deployment", "spec": {"replicas": 1}})
    assert (create.old, create.new) == (None, {"kind": "Service"})
    assert (delete.old, delete.new, delete.type) == ({"kind": "Secret"}, None, "kubernetes:core/v1:Secret")


def test_a_failed_preview_reads_as_the_programs_own_error_lines():
    digest = {"diagnostics": [
        {"severity": "info", "message": "Previewing update"},
        {"severity": "error", "message": "error: Pulumi.dev.yaml: cost: unknown price sheet 'azure'\nPulumi.dev.yaml: namespace: must not be empty\n"},
    ]}
    assert error_lines(digest, "") == ("Pulumi.dev.yaml: cost: unknown price sheet 'azure'\n"
                                       "Pulumi.dev.yaml: namespace: must not be empty")
    assert error_lines({}, "pulumi: no such stack\n") == "pulumi: no such stack"


def test_checks_beside_the_engine_run_in_their_own_thread_below_the_callers_priority():
    def where() -> tuple[int, int]:
        return threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    caller_thread, caller_niceness = where()
    thread, niceness = alongside_engine(where)
    assert thread != caller_thread
    assert niceness == min(19, caller_niceness + ALONGSIDE_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, caller_thread) == caller_niceness  # the caller keeps its own


def test_an_error_in_the_checks_reaches_the_caller():
    def failing() -> None:
        raise ValueError("Pulumi.dev.yaml: namespace: must not be empty")

    with pytest.raises(ValueError, match="namespace"):
        alongside_engine(failing)
