"""leanstack components: pure config and manifest logic, and the Pulumi components around it."""
