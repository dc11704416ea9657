"""Built-in rule data (YAML), installed as the package `scanner.rules`."""
