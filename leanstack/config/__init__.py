"""The stack file: its schema, how it is loaded, the structured errors it reports, and its reference docs."""
