#!/usr/bin/env python3
"""What putting supervised tickets first costs a work list (issue 25, item 2), against a running
server with the demo street:

    python3 bench/supervised.py http://127.0.0.1:8080 [tickets]

Residents (the server's WeChat: a fake one in tests, any code) submit `tickets` complaints in the
first grid; the street's administrator reads the first page of their work list (newest and due
order) 50 times each; then supervises ten of the oldest and reads again. Medians and p90 in ms.
"""
import json
import statistics
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8080"
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 200
PER_RESIDENT = 10


def call(method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + "/api/v1" + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def resident():
    _, r = call("POST", "/auth/wechat", body={"code": f"bench-{uuid.uuid4()}"})
    _, notice = call("GET", "/privacy/notice")
    call("POST", "/me/privacy", r["token"], {"version": notice["version"]})
    return r["token"]


def timed(token, path, n=50):
    xs = []
    for _ in range(n):
        t0 = time.perf_counter()
        status, body = call("GET", path, token)
        xs.append((time.perf_counter() - t0) * 1000)
        assert status == 200, body
    xs.sort()
    return statistics.median(xs), xs[int(n * 0.9)], body


def main():
    token = resident()
    _, grids = call("GET", "/areas/geojson", token)
    ring = grids["features"][0]["geometry"]["coordinates"][0]
    ring = ring[0] if isinstance(ring[0][0], list) else ring
    lng = sum(p[0] for p in ring) / len(ring)
    lat = sum(p[1] for p in ring) / len(ring)
    ids = []
    for i in range(COUNT):
        if i % PER_RESIDENT == 0:
            token = resident()
        status, t = call("POST", "/tickets", token, {
            "kind": "complaint", "category": "noise", "description": f"第{i}件：夜间施工噪音",
            "location": {"lat": lat, "lng": lng},
        })
        assert status == 201, t
        ids.append(t["id"])
    _, login = call("POST", "/auth/staff", body={"login": "street", "password": "Qiaomen-demo1"})
    admin = login["token"]
    pages = {"newest": "/work/tickets?limit=20", "due": "/work/tickets?limit=20&sort=due"}
    before = {k: timed(admin, p) for k, p in pages.items()}
    deadline = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    for tid in ids[:10]:
        status, body = call("POST", f"/tickets/{tid}/supervise", admin, {"deadline": deadline, "note": "测量"})
        assert status == 200, body
    after = {k: timed(admin, p) for k, p in pages.items()}
    for k in pages:
        first = after[k][2]["items"][0]
        print(f"{k:6}: before median {before[k][0]:.1f} ms p90 {before[k][1]:.1f} ms; "
              f"with 10 supervised median {after[k][0]:.1f} ms p90 {after[k][1]:.1f} ms; "
              f"first item supervised: {first.get('supervision') is not None}; "
              f"{len(after[k][2]['items'])} items on the page")


if __name__ == "__main__":
    main()
