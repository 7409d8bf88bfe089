#!/usr/bin/env python3
"""Times a resident's copy of their data (GET /api/v1/me/data) for a resident with 100 tickets,
each with a photo (a console screenshot from docs/images), against a running server (issue 24, item 2).

    python3 bench/export.py http://127.0.0.1:8080 [tickets]

The resident logs in through the server's WeChat (a fake one in tests: any code), agrees to the
notice, submits the tickets at a point the server serves, then takes three copies: the time to
the first byte and to the last, and the ZIP's size, are printed.
"""
import io
import json
import sys
import time
import urllib.request
import uuid
import zipfile

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8080"
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 100


def call(method, path, token=None, body=None, raw=None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.read()


PHOTO = "docs/images/console-ticket-phone.png"  # a real picture, a few hundred KB


def read_photo():
    with open(PHOTO, "rb") as f:
        return f.read()


def main():
    token = json.loads(call("POST", "/api/v1/auth/wechat", body={"code": f"bench-{uuid.uuid4()}"}))["token"]
    version = json.loads(call("GET", "/api/v1/privacy/notice"))["version"]
    call("POST", "/api/v1/me/privacy", token, {"version": version})
    grids = json.loads(call("GET", "/api/v1/areas/geojson", token))
    ring = grids["features"][0]["geometry"]["coordinates"][0]
    ring = ring[0] if isinstance(ring[0][0], list) else ring
    lng = sum(p[0] for p in ring) / len(ring)
    lat = sum(p[1] for p in ring) / len(ring)
    category = json.loads(call("GET", "/api/v1/categories"))[0]["code"]
    picture = read_photo()
    started = time.time()
    for i in range(COUNT):
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n"
            "Content-Type: image/png\r\n\r\n"
        ).encode() + picture + f"\r\n--{boundary}--\r\n".encode()
        photo = json.loads(call("POST", "/api/v1/attachments", token, raw=body,
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}))
        call("POST", "/api/v1/tickets", token, {
            "kind": "complaint", "category": category,
            "description": f"第{i}次反映：楼下夜里施工很吵，电话13812341234",
            "location": {"lat": lat, "lng": lng}, "attachment_ids": [photo["id"]],
        }, headers={"Idempotency-Key": uuid.uuid4().hex})
    print(f"{COUNT} tickets with a photo each submitted in {time.time() - started:.1f} s")
    for attempt in range(3):
        t0 = time.time()
        req = urllib.request.Request(BASE + "/api/v1/me/data")
        req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=120) as resp:
            first = resp.read(1)
            t1 = time.time()
            rest = resp.read()
        t2 = time.time()
        archive = zipfile.ZipFile(io.BytesIO(first + rest))
        data = json.loads(archive.read("data.json"))
        print(f"copy {attempt + 1}: first byte {1000 * (t1 - t0):.0f} ms, whole {1000 * (t2 - t0):.0f} ms, "
              f"{len(first) + len(rest)} bytes, {len(data['tickets'])} tickets, "
              f"{len(archive.namelist()) - 1} photos")


if __name__ == "__main__":
    main()
