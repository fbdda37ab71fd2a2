"""rewrap's headless core.

Nothing here imports textual or prompt_toolkit (an import-linter contract and a test keep it so),
and importing this package is cheap: subpackages are imported by the modules that need them.
"""
