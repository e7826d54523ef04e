"""Pricing Kubernetes objects before apply, in stages as Infracost separates them:
usage (objects -> what the platform bills, per the sheet's billing model) -> price (x unit prices)
-> delta (old vs new inputs of a preview) -> output (table, markdown/PR comment, json)."""
