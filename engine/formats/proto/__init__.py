"""Protobuf schemas for CockroachDB's on-disk messages (subsets, wire-compatible).

The *_pb2.py modules and their *_pb2.pyi stubs (for mypy) are generated: run
`python -m engine.formats.proto.generate` after editing a
.proto file. Field numbers and types follow the CockroachDB sources cited in each .proto.
"""
