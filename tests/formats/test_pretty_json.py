"""engine.formats.pretty_json: gogo jsonpb (EmitDefaults) + CockroachDB JSONB text, as
protoreflect.MessageToJSON produces for SHOW BACKUP ... WITH as_json (pkg/backup/show.go
jsonShower, cockroachdb/cockroach commit 00ae4afda82719d566196abd35180dada05db90b;
pkg/sql/protoreflect/utils.go marshalToJSONRedacted; pkg/util/json object key order)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from engine.formats import manifest as mf
from engine.formats.pretty_json import jsonb_text, manifest_json, message_dict


def test_jsonb_text_sorts_keys_bytewise_and_uses_cockroachdbs_separators() -> None:
    assert jsonb_text({"b": 1, "a": [1, "x\n\"\\"], "_": None, "B": True, "\u00e9": False}) == (
        '{"B": true, "_": null, "a": [1, "x\\n\\"\\\\"], "b": 1, "\u00e9": false}'
    )
    assert jsonb_text({}) == "{}" and jsonb_text([]) == "[]"
    assert jsonb_text("\x01\u2028") == '"\\u0001\\u2028"'


def test_jsonpb_rules_for_the_manifest() -> None:
    m = mf.build_manifest(
        start=None, end=datetime(2024, 5, 20, tzinfo=UTC), descriptors=[mf.database_descriptor(100, "bank")],
        files=[mf.manifest_file("data/1.sst", 104, rows=3, data_size=30)], cluster=True,
        cluster_id=bytes(range(16)), backup_id=bytes(16), revision_history=True,
    )
    m.statistics_filenames[104] = "BACKUP-STATISTICS-104"
    d = message_dict(m)
    assert d["clusterId"] == "00010203-0405-0607-0809-0a0b0c0d0e0f"  # uuid.UUID text, not base64
    assert d["endTime"]["wallTime"] == "1716163200000000000"  # int64 as a string
    assert d["nodeId"] == 1 and d["formatVersion"] == 1  # 32-bit ints as numbers
    assert d["mvccFilter"] == "All"  # enums by name
    assert d["statisticsFilenames"] == {"104": "BACKUP-STATISTICS-104"}  # map keys as strings
    assert d["files"][0]["span"]["key"] == "8A=="  # roachpb.Key: base64 via encoding/json
    assert d["descriptors"][0] == {"database": {
        "id": 100, "modificationTime": {"logical": 0, "wallTime": "0"}, "name": "bank",
        "offlineReason": "", "state": "PUBLIC", "version": "1",
    }}  # only the set member of the oneof; unset proto2 fields with their defaults
    text = manifest_json(m)
    assert json.loads(text)["__redacted__"] is True
    assert text.index('"__redacted__"') == 1  # sorts first
    empty = mf.Span()
    assert message_dict(empty) == {"endKey": None, "key": None}  # nil []byte -> null
