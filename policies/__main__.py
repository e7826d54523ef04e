"""Entry point the Pulumi engine runs for `--policy-pack policies`: registers the pack, nothing else.

The rules live in the installed `leanstack` package (leanstack.policies); this directory holds only
this shim, the pack's PulumiPolicy.yaml and the per-stack configs.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from leanstack.policies.pack import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
