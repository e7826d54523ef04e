"""Reading the engine's preview digest (`pulumi preview --json --show-sames`) into priced steps."""

from leanstack.costing.preview import error_lines, steps_of

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
