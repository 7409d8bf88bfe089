"""One office at a time: the street's figures for the last 365 days, each request timed from the
client over loopback (issue 6: a street-wide year summary under 200 ms at 1,000,000 tickets).

    python3 bench/stats.py bench/out/handles.json [base-url] [repeats]
"""
import datetime
import json
import statistics
import sys
import time
import urllib.request

handles = json.load(open(sys.argv[1]))
base = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:18080"
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 10
beijing = datetime.timezone(datetime.timedelta(hours=8))
midnight = datetime.datetime.now(beijing).replace(hour=0, minute=0, second=0, microsecond=0)


def stamp(t):
    return t.isoformat().replace("+", "%2B")


def timed(path):
    req = urllib.request.Request(base + path, headers={
        "Authorization": "Bearer " + handles["street_admin_token"]})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=300) as r:
        r.read()
        assert r.status == 200, r.status
    return (time.perf_counter() - start) * 1000


area = handles["street_id"]
year = f"from={stamp(midnight - datetime.timedelta(days=365))}&to={stamp(midnight)}"
ragged = (f"from={stamp(midnight - datetime.timedelta(days=365, hours=-5))}"
          f"&to={stamp(midnight + datetime.timedelta(hours=9, minutes=17))}")
cases = [
    ("summary, a year on midnights", f"/api/v1/stats/summary?area_id={area}&{year}", repeats),
    ("summary, a ragged year", f"/api/v1/stats/summary?area_id={area}&{ragged}", repeats),
    ("export.csv (summary)", f"/api/v1/stats/export.csv?area_id={area}&{year}", 3),
    ("breakdown by grid", f"/api/v1/stats/breakdown?area_id={area}&by=grid&{year}", 1),
    ("breakdown by worker", f"/api/v1/stats/breakdown?area_id={area}&by=worker&{year}", 1),
    ("export.xlsx (six breakdowns)", f"/api/v1/stats/export.xlsx?area_id={area}&{year}", 1),
]
for label, path, n in cases:
    times = sorted(timed(path) for _ in range(n))
    print(f"{label:>30}: median {statistics.median(times):8.1f} ms"
          f"  (min {times[0]:.1f}, max {times[-1]:.1f}, n={n})")

# The console's 三率驾驶舱 (issue 22: under 100 ms server time at 1,000,000 tickets): the street
# admin signs in through the form and opens this month and last month, as a wall screen does.
import urllib.parse  # noqa: E402


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# The session cookie is `Secure` outside development: over plain HTTP on loopback it is passed
# by hand rather than through a cookie jar that would withhold it.
try:
    urllib.request.build_opener(NoRedirect).open(base + "/console/login", data=urllib.parse.urlencode(
        {"login": "street", "password": "Qiaomen-demo1"}).encode(), timeout=30)
    raise SystemExit("console login did not redirect")
except urllib.error.HTTPError as answer:
    assert answer.code == 303, answer.code
    session = answer.headers["Set-Cookie"].split(";")[0]


def page(path):
    req = urllib.request.Request(base + path, headers={"Cookie": session})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=300) as r:
        body = r.read().decode()
        assert r.status == 200 and "三率驾驶舱" in body, r.status
    return (time.perf_counter() - start) * 1000


for label, path in [("console dashboard, this month", "/console/dashboard?period=this_month"),
                    ("console dashboard, last month", "/console/dashboard?period=last_month")]:
    times = sorted(page(path) for _ in range(repeats))
    print(f"{label:>30}: median {statistics.median(times):8.1f} ms"
          f"  (min {times[0]:.1f}, max {times[-1]:.1f}, n={repeats})")
