"""leanstack guardrails: a Pulumi CrossGuard policy pack whose rules are pure, unit-tested functions."""
