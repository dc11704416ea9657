"""Opt-in live verification of findings (``--verify``): declarative checks in the rule YAML, Python where needed."""
