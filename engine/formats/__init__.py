"""CockroachDB's backup byte formats: pure functions over bytes, no storage and no KMS.

See ../shared/spec/backup-format.md; each module cites the CockroachDB source it follows.
"""
