"""Entry point the Pulumi engine runs for `--policy-pack policies`: registers the pack, nothing else."""

import sys
from pathlib import Path

# The engine runs this directory as a script, with policies/ first on sys.path. The rules import
# `components` and `policies` as packages from the project root, and a module of this directory
# must not shadow a top-level one (settings, rules), so the root replaces policies/ on the path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.pack import PACK_NAME, POLICIES  # noqa: E402

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
