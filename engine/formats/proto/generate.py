"""Regenerate the *_pb2.py modules and their *_pb2.pyi stubs from the .proto files next to this script.

The .pyi stubs (protoc's --pyi_out) are what mypy reads for the generated messages; commit both.
Needs grpcio-tools (a development tool, not a runtime dependency), whose bundled protoc must match
the "Protobuf Python Version" in the generated headers:
    pip install grpcio-tools && python -m engine.formats.proto.generate
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    from grpc_tools import protoc  # imported here: development-only dependency

    here = Path(__file__).resolve().parent
    root = here.parents[2]
    protos = sorted(str(p.relative_to(root)) for p in here.glob("*.proto"))
    include = str(Path(protoc.__file__).parent / "_proto")
    args = ["protoc", f"-I{root}", f"-I{include}", f"--python_out={root}", f"--pyi_out={root}", *protos]
    rc: int = protoc.main(args)
    if rc == 0:
        print("generated:", ", ".join(Path(p).stem + "_pb2.py/.pyi" for p in protos))
    return rc


if __name__ == "__main__":
    sys.exit(main())
