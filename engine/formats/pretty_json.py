"""SHOW BACKUP ... WITH as_json: the manifest as CockroachDB renders it, one JSONB per backup.

What CockroachDB does (read, not copied): pkg/backup/show.go `jsonShower` calls
protoreflect.MessageToJSON(&manifest, FmtFlags{EmitDefaults: true, EmitRedacted: true})
(cockroachdb/cockroach commit 00ae4afda82719d566196abd35180dada05db90b), which in
pkg/sql/protoreflect/utils.go marshals with gogo/protobuf's jsonpb.Marshaler{EmitDefaults: true}
(AnyResolver set for redaction), parses the text into a JSONB, and concatenates
`{"__redacted__": true}`. gogo jsonpb's rules, mirrored here over the message descriptor:

* field names are the lowerCamelCase JSON names (OrigName false); every field is written,
  defaults included (EmitDefaults); a oneof only when set;
* singular messages that are unset are written as their default object (CockroachDB declares
  them `nullable = false`); repeated fields as arrays (`[]` when empty); maps as objects;
* int64 / uint64 as quoted decimal strings, 32-bit ints and floats as numbers, enums by name;
* bytes through encoding/json: standard base64, and `null` for an empty (nil) slice; the UUID
  custom types (cluster_id, id) through their MarshalText: the canonical 8-4-4-4-12 form;

and the JSONB text (pkg/util/json): object keys sorted bytewise and unique, `", "` and `": "`
separators, strings escaped as encoding/json does without HTML escaping.

Known differences: only the fields rewrap models are known (engine/formats/proto); CockroachDB's
output also holds `dir`, `tenants`, the descriptors' columns, indexes, privileges and so on, which
rewrap keeps as unknown fields and cannot name. Table descriptor redaction (default expressions)
therefore never applies.
"""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

if TYPE_CHECKING:  # the C (upb) descriptors are what msg.DESCRIPTOR.fields usually holds
    from google._upb._message import FieldDescriptor as _UpbFieldDescriptor

    _Field = FieldDescriptor | _UpbFieldDescriptor

REDACTED_MARKER = "__redacted__"
UUID_FIELDS = frozenset(
    {
        "rewrap.formats.backuppb.BackupManifest.cluster_id",
        "rewrap.formats.backuppb.BackupManifest.id",
        "rewrap.formats.backuppb.BackupPartitionDescriptor.backup_id",
    }
)
_STRING_INTS = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
}


def _is_repeated(f: _Field) -> bool:
    repeated = getattr(f, "is_repeated", None)  # protobuf >= 6; `label` is deprecated there
    if repeated is not None:
        return bool(repeated)
    label: int = getattr(f, "label")  # not in the stubs any more
    return label == FieldDescriptor.LABEL_REPEATED


def _scalar(f: _Field, v: Any) -> Any:
    if f.full_name in UUID_FIELDS:
        raw = bytes(v).ljust(16, b"\x00")[:16]  # uuid.UUID is a [16]byte array, never nil
        return str(uuid.UUID(bytes=raw))
    t = f.type
    if t == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(v).decode() if v else None
    if t in _STRING_INTS:
        return str(v)
    if t == FieldDescriptor.TYPE_ENUM and f.enum_type is not None:  # an enum field has its type
        value = f.enum_type.values_by_number.get(v)
        return value.name if value is not None else v
    return v


def message_dict(msg: Message) -> dict[str, Any]:
    """gogo jsonpb (EmitDefaults) of a message, as Python values."""
    out: dict[str, Any] = {}
    for f in msg.DESCRIPTOR.fields:
        if f.containing_oneof is not None and msg.WhichOneof(f.containing_oneof.name) != f.name:
            continue
        v = getattr(msg, f.name)
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            value_field = f.message_type.fields_by_name["value"]
            key_field = f.message_type.fields_by_name["key"]
            out[f.json_name] = {
                str(_scalar(key_field, k)): (
                    message_dict(val) if value_field.message_type is not None else _scalar(value_field, val)
                )
                for k, val in v.items()
            }
        elif _is_repeated(f):
            if f.message_type is not None:
                out[f.json_name] = [message_dict(x) for x in v]
            else:
                out[f.json_name] = [_scalar(f, x) for x in v]
        elif f.message_type is not None:
            out[f.json_name] = message_dict(v)  # unset: its default object (nullable = false)
        else:
            out[f.json_name] = _scalar(f, v)
    return out


def manifest_json(manifest: Message) -> str:
    """The `manifest` column of SHOW BACKUP ... WITH as_json, as CockroachDB prints it."""
    value = message_dict(manifest)
    value[REDACTED_MARKER] = True  # jb.Concat(redactionJSONBMarker)
    return jsonb_text(value)


def jsonb_text(v: Any) -> str:
    """A value as CockroachDB's JSONB prints it (json.JSON.String)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return _json_string(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if v != int(v) else str(int(v))
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: kv[0].encode())
        return "{" + ", ".join(f"{_json_string(k)}: {jsonb_text(x)}" for k, x in items) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(jsonb_text(x) for x in v) + "]"
    raise TypeError(f"not a JSON value: {type(v).__name__}")


def _json_string(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20:
            out.append(f"\\u{o:04x}")
        elif o in (0x2028, 0x2029):
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
