"""Guardrails as pure rule predicates (rules, stack_rules, cost_rules) and the CrossGuard pack built
from them (pack). The pack directory policies/ at the project root holds only the engine's shim."""
