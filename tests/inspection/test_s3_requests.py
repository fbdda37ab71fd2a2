"""The inspection service on moto S3 with an AWS KMS key, every request counted by a proxy.

What one browser highlight costs (the calls the details panel makes: `listing` for a
collection; `sizes` + `key_files` for a backup). Before the service (tui/app/session.py at main
6081cc2, same demo collection, measured against moto the same way):

    expand a collection               4 requests (3 list, 1 get)
    then highlight it                 4 again (3 list, 1 get)
    highlight a full backup          15 (2 list, 12 HEAD: one per file under it, data/ included)
    highlight it again               15
    expand a full backup              3 list
    highlight an incremental         13 (2 list, 10 HEAD, 1 get)

The HEADs grew with the number of files (up to 5,000 per highlight); below, nothing under data/
is ever requested, and a highlight seen before costs nothing.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qs, urlsplit

from inspection_support import S3Demo

from engine.inspection import Inspector, LayerSizes

# Upper bounds, in requests, per step (measured: the same numbers).
BOUNDS = {
    "expand a collection": 4,  # metadata/index/ list, root list (delimiter data/), metadata/latest/ list, LATEST get
    "then highlight it": 0,
    "highlight a full backup": 5,  # backup dir list, ENCRYPTION-INFO, manifest, -CHECKSUM, 1 KMS Decrypt
    "highlight it again": 0,
    "expand a full backup": 2,  # incrementals/<subdir>/ list, the chain's index list
    "highlight an incremental": 3,  # its manifest, -CHECKSUM, 1 KMS Decrypt
    "highlight the incremental again": 0,
}


def kinds(log: list[tuple[str, str, str]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for method, path, target in log:
        if target.startswith("TrentService."):
            out["kms:" + target.split(".", 1)[1]] += 1
        elif "list-type=2" in path:
            out["s3:list"] += 1
        else:
            out[f"s3:{method.lower()}"] += 1
    return out


def touches_data(method: str, path: str) -> bool:
    """A request for an object under data/, or a listing that could reach one: one without a
    delimiter ("/" or "data/") outside metadata/."""
    parts = urlsplit(path)
    if "list-type=2" not in path:
        return "/data/" in parts.path
    query = parse_qs(parts.query)
    prefix = query.get("prefix", [""])[0]
    delimited = query.get("delimiter", [""])[0] in ("/", "data/")
    return "/data/" in f"/{prefix}" or not (delimited or "/metadata/" in f"/{prefix}")


def test_touches_data_flags_what_the_old_session_sent() -> None:
    assert touches_data("HEAD", "/b/c/2026/11/26-020012.34/data/1.sst")
    assert touches_data("GET", "/b?list-type=2&prefix=c%2F2026%2F11%2F26-020012.34%2F&max-keys=1000")
    assert not touches_data("GET", "/b?list-type=2&prefix=c%2F2026%2F11%2F26-020012.34%2F&delimiter=%2F")
    assert not touches_data("GET", "/b?list-type=2&prefix=c%2Fmetadata%2Flatest%2F")


def test_requests_per_highlight_on_s3(s3_demo: S3Demo) -> None:
    log = s3_demo.proxy.log
    counts: dict[str, int] = {}
    every: list[tuple[str, str, str]] = []

    def step(name: str, fn) -> object:  # type: ignore[no-untyped-def]
        log.clear()
        out = fn()
        counts[name] = len(log)
        every.extend(log)
        print(f"{name:34} {len(log):3} requests  {dict(kinds(log))}")
        return out

    uri = s3_demo.uri
    with Inspector() as insp:
        insp.kms.remember(s3_demo.kms)
        listing = step("expand a collection", lambda: insp.listing(uri))
        step("then highlight it", lambda: insp.listing(uri))
        latest = listing.full_backups[0].subdir  # type: ignore[attr-defined]

        def details(layer: str | None = None) -> object:
            sizes = insp.sizes(uri, latest, layer)
            insp.key_files(uri, latest)
            return sizes

        sizes = step("highlight a full backup", details)
        assert isinstance(sizes, LayerSizes) and sizes.data_files == 4
        step("highlight it again", details)
        layers = step("expand a full backup", lambda: insp.incrementals(uri, latest))
        first = layers[0].path  # type: ignore[index]
        assert isinstance(step("highlight an incremental", lambda: details(first)), LayerSizes)
        step("highlight the incremental again", lambda: details(first))
    assert {k: v for k, v in counts.items() if v > BOUNDS[k]} == {}, counts
    assert [r for r in every if touches_data(r[0], r[1])] == []
    assert sum(kinds(every)[k] for k in kinds(every) if k.startswith("kms:")) == 2  # one per layer, once


def test_s3_storage_is_reused_and_closed(s3_demo: S3Demo) -> None:
    insp = Inspector()
    storage = insp.collection(s3_demo.uri).storage
    insp.listing(s3_demo.uri)
    assert storage.connected  # type: ignore[attr-defined]
    s3_demo.proxy.log.clear()
    assert insp.collection(s3_demo.uri).storage is storage
    assert insp.subdirs(s3_demo.uri) == insp.listing(s3_demo.uri).subdirs and s3_demo.proxy.log == []
    insp.close()
    assert not storage.connected  # type: ignore[attr-defined]  # the client and its pool are gone
    assert insp.open_collections == []
