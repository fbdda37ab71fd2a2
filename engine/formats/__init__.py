"""CockroachDB's backup byte formats: pure functions over bytes, no storage and no KMS.

Each module cites the CockroachDB source it follows (cockroachdb/cockroach pkg/backup/ and
pkg/cloud/, and cockroachdb/pebble for the SST formats).
"""
