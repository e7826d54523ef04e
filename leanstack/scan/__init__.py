"""Independent checks over what a stack renders: checkov, kubernetes-validate, hadolint and the policy
rules (scanners), and docs/security.md from one scan (report)."""
