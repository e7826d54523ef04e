"""The CrossGuard policies: each pure rule (policies.rules, policies.stack_rules) as a mandatory
policy, plus the advisory cost budget (policies.cost_rules).

Policies read their per-stack settings from the policy pack config (policies/config/<stack>.json,
passed with --policy-pack-config); each publishes the schema of the keys it reads, so the CLI
rejects a config file with a misspelt key or value before any policy runs.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from leanstack.kube.manifest import dig, kind_of
from leanstack.policies.rules import RULES, Rule
from leanstack.policies.settings import ENVIRONMENT_SCHEMA, MAX_CLAIM_SCHEMA, Settings
from leanstack.policies.cost_rules import BUDGET_SCHEMA, over_budget
from leanstack.policies.stack_rules import DEFAULT_DENY

PACK_NAME = "leanstack-guardrails"
SCHEMAS = {"environment": ENVIRONMENT_SCHEMA, "maxClaimSize": MAX_CLAIM_SCHEMA}


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        settings = Settings.from_config(args.get_config())
        for message in rule.check(args.resource_type, args.props, settings):
            report_violation(message, None)

    schema = PolicyConfigSchema(properties={key: SCHEMAS[key] for key in rule.config}) if rule.config else None
    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=schema,
    )


def _validate_default_deny(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    # Attach each violation to the Namespace resource when the stack declares it.
    urns = {dig(r.props, "metadata", "name"): r.urn for r in args.resources if kind_of(r.resource_type) == "Namespace"}
    for namespace, message in DEFAULT_DENY.check((r.resource_type, r.props) for r in args.resources):
        report_violation(message, urns.get(namespace))


DEFAULT_DENY_POLICY = StackValidationPolicy(
    name=DEFAULT_DENY.name,
    description=DEFAULT_DENY.description,
    validate=_validate_default_deny,
    enforcement_level=EnforcementLevel.MANDATORY,
)

def _validate_cost(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for message in over_budget(((r.resource_type, r.props) for r in args.resources), args.get_config()):
        report_violation(message, None)


COST_BUDGET = StackValidationPolicy(
    name="monthly-cost-budget",
    description="Advisory: the stack's monthly baseline cost stays within its budget.",
    validate=_validate_cost,
    enforcement_level=EnforcementLevel.ADVISORY,
    config_schema=PolicyConfigSchema(properties=BUDGET_SCHEMA["properties"]),
)

POLICIES = [resource_policy(rule) for rule in RULES] + [DEFAULT_DENY_POLICY, COST_BUDGET]
