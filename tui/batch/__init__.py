"""The batch face: statements from -e/-f/stdin, output writers, progress lines."""
