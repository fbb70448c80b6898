"""The `curex` command line: runs the local stack and the project's tools."""
