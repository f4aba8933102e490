"""Reading a migration directory: discovery, analysis of each file, the dependency plan."""
