"""Prints one line per wrk run: throughput, p50/p99 latency and errors."""
import re
import sys

scenario, path = sys.argv[1], sys.argv[2]
text = open(path).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", text, re.M))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
sockerr = re.search(r"Socket errors: (.*)", text)
paced = re.search(r"Paced: (\d+) req/s offered, \d+ sends, (\d+) late, longest lag ([\d.]+) ms", text)
label = f"{scenario} @{paced.group(1)}/s" if paced else scenario
print(f"{label:>18}: {rps.group(1) if rps else '?'} req/s, p50 {lat.get('50', '?')}, "
      f"p99 {lat.get('99', '?')}, errors {non2xx.group(1) if non2xx else 0}"
      + (f", late sends {paced.group(2)} (longest lag {paced.group(3)} ms)" if paced else "")
      + (f" (socket: {sockerr.group(1)})" if sockerr else ""))
