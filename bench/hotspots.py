"""Hot spots of the whole street, one request at a time, timed from the client over loopback
(issue 26: a street year at 1,000,000 tickets within 2 s).

    python3 bench/hotspots.py bench/out/handles.json [base-url] [repeats]
"""
import json
import statistics
import sys
import time
import urllib.request

handles = json.load(open(sys.argv[1]))
base = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:18080"
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
area = handles["street_id"]


def timed(path):
    req = urllib.request.Request(base + path, headers={
        "Authorization": "Bearer " + handles["street_admin_token"]})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=300) as r:
        body = json.loads(r.read())
        assert r.status == 200, r.status
    return (time.perf_counter() - start) * 1000, body


cases = [
    ("the last 30 days, every category", f"/api/v1/stats/hotspots?area_id={area}"),
    ("this year, every category", f"/api/v1/stats/hotspots?area_id={area}&period=this_year"),
    ("365 days, every category",
     f"/api/v1/stats/hotspots?area_id={area}&from={time.strftime('%Y-%m-%d', time.gmtime(time.time() - 365 * 86400))}"),
    ("365 days, one category",
     f"/api/v1/stats/hotspots?area_id={area}&category=noise&from={time.strftime('%Y-%m-%d', time.gmtime(time.time() - 365 * 86400))}"),
]
print("| request | hot spots | tickets in them | median | max |")
print("|---|---|---|---|---|")
for name, path in cases:
    runs = [timed(path) for _ in range(repeats)]
    times = [t for t, _ in runs]
    body = runs[-1][1]
    tickets = sum(f["properties"]["ticket_count"] for f in body["features"])
    print(f"| {name} | {len(body['features'])} | {tickets:,} | {statistics.median(times):.0f} ms | {max(times):.0f} ms |")
