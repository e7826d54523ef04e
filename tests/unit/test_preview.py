"""Reading the engine's preview digest (`pulumi preview --json --show-sames`) into priced steps."""

import json

from leanstack.costing.preview import digest_of, error_lines, steps_of

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


def test_the_streamed_events_read_as_the_digest_with_the_outputs_each_step_reported():
    """Engine events as PULUMI_ENABLE_STREAMING_JSON_PREVIEW streams them (pulumi v3.259): a step's
    pre event plans it; its outputs event carries what the provider reported in the preview."""
    urn = "urn:pulumi:dev::leanstack::docker-build:index:Image::api-image-layout"
    old = {"type": "docker-build:index:Image", "inputs": {"push": False}, "outputs": {"digest": "sha256:old"}}
    planned = {"type": "docker-build:index:Image", "inputs": {"push": False}}
    built = {**planned, "outputs": {"digest": "sha256:new"}}
    replaced = "urn:pulumi:dev::leanstack::kubernetes:batch/v1:Job::api-migrate"
    job = {"type": "kubernetes:batch/v1:Job", "inputs": {"kind": "Job"}}
    lines = [json.dumps(event) for event in [
        {"sequence": 0, "preludeEvent": {"config": {}}},
        {"diagnosticEvent": {"severity": "debug", "message": "registering resource"}},
        {"resourcePreEvent": {"metadata": {"op": "update", "urn": urn, "old": old, "new": planned}}},
        {"resourcePreEvent": {"metadata": {"op": "create-replacement", "urn": replaced, "old": job, "new": job}}},
        {"resourcePreEvent": {"metadata": {"op": "replace", "urn": replaced, "old": job, "new": job}}},
        {"resOutputsEvent": {"metadata": {"op": "update", "urn": urn, "old": old, "new": built}}},
        {"diagnosticEvent": {"severity": "error", "message": "error: boom\n", "urn": urn}},
        {"summaryEvent": {"resourceChanges": {"update": 1, "replace": 1}}},
    ]] + ["not json", "[]"]
    digest = digest_of(lines)
    assert digest["changeSummary"] == {"update": 1, "replace": 1}
    assert error_lines(digest, "") == "boom"
    image, *job_steps = steps_of(digest)
    assert (image.op, image.old_outputs, image.new_outputs) == ("update", {"digest": "sha256:old"}, {"digest": "sha256:new"})
    assert [step.op for step in job_steps] == ["create-replacement", "replace"]
