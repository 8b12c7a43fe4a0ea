#!/usr/bin/env python3
"""Writes BENCHMARKS.md (and a gnuplot PNG) from one bench/run.sh run.

usage: report.py --run-dir bench/results/<stamp> --out BENCHMARKS.md [--plot PATH.png]

Reads results.jsonl (one JSON object per measured phase, from loadgen and
run.sh), env.txt and sysctl.txt; asks the machine for its CPU, kernel and
tool versions. Standard library only.
"""
import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys

SERVERS = ["hub", "nchan", "ws", "uws"]
LABEL = {"hub": "realtime hub", "nchan": "nchan", "ws": "Node ws", "uws": "uWebSockets.js"}
PEERS = ["nchan", "ws", "uws"]


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def load(run_dir):
    rows = []
    with open(os.path.join(run_dir, "results.jsonl")) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                print("report: skipping a bad line: " + line[:120], file=sys.stderr)
    env = {}
    p = os.path.join(run_dir, "env.txt")
    if os.path.exists(p):
        for line in open(p):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                env[k] = v
    sysctl = open(os.path.join(run_dir, "sysctl.txt")).read().strip() if os.path.exists(
        os.path.join(run_dir, "sysctl.txt")) else ""
    return rows, env, sysctl


def machine(bench):
    cpu = sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
    pkg = lambda name: sh(f"dpkg-query -W -f='${{Version}}' {name} 2>/dev/null")

    def npm_version(mod):
        try:
            with open(os.path.join(bench, "peers", "node_modules", mod, "package.json")) as f:
                d = json.load(f)
                return f"{d.get('name')} {d.get('version')}"
        except OSError:
            return "not installed"

    return [
        ("CPUs (nproc)", sh("nproc")),
        ("CPU model", cpu),
        ("Memory", sh("free -g | awk '/^Mem:/{print $2\" GiB\"}'")),
        ("Kernel", sh("uname -r")),
        ("PHP", sh("php -r 'echo PHP_VERSION;'")),
        ("libuv (Debian libuv1)", pkg("libuv1")),
        ("nginx", sh("nginx -v 2>&1 | sed 's/.*nginx\\///'")),
        ("nchan (libnginx-mod-nchan)", pkg("libnginx-mod-nchan")),
        ("Node.js", sh("node --version")),
        ("ws", npm_version("ws")),
        ("uWebSockets.js", npm_version("uWebSockets.js") + " (native uws_linux_x64_"
         + sh("node -p process.versions.modules") + ".node)"),
        ("gcc", sh("gcc -dumpfullversion")),
    ]


def fmt(v, nd=2):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if abs(v) >= 1e6:
        return f"{v / 1e6:.2f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f}k"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


def by(rows, **kw):
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]


def cpu_aggregate(rs):
    """Server CPU microseconds per delivery over several phases."""
    cpu = sum(r.get("server_cpu_s", 0) for r in rs)
    dl = sum(r.get("received", 0) + r.get("slow_received", 0) for r in rs)
    return cpu * 1e6 / dl if dl else None


def sustained(r):
    """The server kept up: no loss, (almost) every op sent, deliveries done soon after publishing."""
    return (r.get("loss_pct", 100) < 0.1 and r.get("achieved_rate", 0) >= 0.95 * r.get("rate", 0)
            and r.get("window_s", 1e9) <= r.get("duration_s", 0) * 1.2 + 0.5)


def ratio(a, b):
    if a is None or b is None or a == 0:
        return None
    return b / a


def verdict(ok):
    return "**met**" if ok else "**missed**"


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def pubsub_table(rows, wl, servers, show_php=False):
    hdr = ["server", "offered ops/s", "achieved ops/s", "expected", "delivered/s", "loss",
           "p50 ms", "p99 ms", "p99.9 ms", "max ms", "server CPU µs/delivery", "CPU-s per 1M"]
    if show_php:
        hdr.append("broadcast() ns/call (in request)")
    out = []
    for s in servers:
        for r in sorted(by(rows, workload=wl, server=s), key=lambda r: r.get("rate", 0)):
            if "error" in r:
                out.append([LABEL[s], "error: " + r["error"]] + [""] * (len(hdr) - 2))
                continue
            if "rate" not in r:
                continue
            line = [LABEL[s], fmt(r["rate"], 1), fmt(r["achieved_rate"], 1), fmt(r["expected"]),
                    fmt(r["deliveries_per_s"]), f"{r['loss_pct']:.2f}%",
                    fmt(r["lat_p50_ms"]), fmt(r["lat_p99_ms"]), fmt(r["lat_p999_ms"]),
                    fmt(r["lat_max_ms"]), f"{r['cpu_us_per_delivery']:.2f}",
                    f"{r['cpu_s_per_million']:.2f}"]
            if show_php:
                line.append(fmt(r.get("php_ns_per_call"), 0) if s == "hub" and r.get("php_calls") else "–")
            out.append(line)
    return table(hdr, out)


def gnuplot(rows, servers, floor, png, workdir):
    gp = shutil.which("gnuplot")
    if not gp:
        return "gnuplot is not installed: no plot."
    os.makedirs(workdir, exist_ok=True)
    colors = {"hub": "#d62728", "nchan": "#1f77b4", "ws": "#2ca02c", "uws": "#9467bd"}
    plots = []
    for s in servers:
        pts = sorted((r["deliveries_per_s"], r["lat_p99_ms"], r["lat_p50_ms"])
                     for r in by(rows, workload="a", server=s) if "rate" in r and r["deliveries_per_s"] > 0)
        if not pts:
            continue
        path = os.path.join(workdir, f"a-{s}.dat")
        with open(path, "w") as f:
            for x, p99, p50 in pts:
                f.write(f"{x / 1000:.3f} {max(p99, 0.001):.4f} {max(p50, 0.001):.4f}\n")
        plots.append((s, path))
    cpu_lines = []
    for wl, dash in (("a", 1), ("b", 2)):
        for srv in servers:
            pts = sorted((r["deliveries_per_s"], r["cpu_us_per_delivery"])
                         for r in by(rows, workload=wl, server=srv) if "rate" in r and r["deliveries_per_s"] > 0)
            if not pts:
                continue
            path = os.path.join(workdir, f"cpu-{wl}-{srv}.dat")
            with open(path, "w") as f:
                for x, y in pts:
                    f.write(f"{x / 1000:.3f} {y:.4f}\n")
            cpu_lines.append((wl, srv, dash, path))
    bars = os.path.join(workdir, "burst.dat")
    with open(bars, "w") as f:
        f.write("# server cpu\n")
        for srv in servers:
            v = cpu_aggregate([r for r in by(rows, workload="c", server=srv) if "rate" in r])
            f.write(f"\"{LABEL[srv]}\" {v:.3f}\n" if v is not None else f"\"{LABEL[srv]}\" NaN\n")
    mem = os.path.join(workdir, "mem.dat")
    with open(mem, "w") as f:
        f.write("# variant " + " ".join(servers) + "\n")
        variants = []
        for r in by(rows, workload="d"):
            if r.get("variant") not in variants:
                variants.append(r.get("variant"))
        for v in variants:
            vals = []
            for s in servers:
                rs = by(rows, workload="d", server=s, variant=v)
                vals.append(f"{rs[0]['rss_per_conn_b'] / 1024:.3f}" if rs and "rss_per_conn_b" in rs[0] else "NaN")
            f.write(f"{v} " + " ".join(vals) + "\n")
    script = [
        "set terminal pngcairo size 1500,1000 font 'DejaVu Sans,10'",
        f"set output '{png}'",
        "set multiplot layout 2,2",
        "set title '(a) one channel, 10k subscribers: p99 (solid) and p50 (dashed) latency'",
        "set xlabel 'deliveries per second (thousands)'",
        "set ylabel 'publish-to-receive latency (ms)'",
        "set logscale y", "set grid", "set key below",
    ]
    if plots:
        parts = []
        for srv, path in plots:
            parts.append(f"'{path}' using 1:2 with linespoints lw 2 pt 7 lc rgb '{colors[srv]}' title '{LABEL[srv]} p99'")
            parts.append(f"'{path}' using 1:3 with linespoints lw 1 dt 2 pt 6 lc rgb '{colors[srv]}' notitle")
        script.append("plot " + ", ".join(parts))
    else:
        script.append("unset logscale y; plot 0 notitle")
    script += ["unset logscale y", "set yrange [0:*]",
               "set title 'server CPU per delivery vs throughput: (a) solid, (b) dashed'",
               "set ylabel 'µs of server CPU per delivery'"]
    parts = []
    for wl, srv, dash, path in cpu_lines:
        title = f"title '{LABEL[srv]} ({wl})'" if wl == "a" else f"title '({wl})'"
        parts.append(f"'{path}' using 1:2 with linespoints lw 2 dt {dash} pt 7 lc rgb '{colors[srv]}' {title}")
    if floor.get("plain"):
        parts.append(f"{floor['plain'] / 1000:.3f} with lines lw 2 dt 3 lc rgb 'black' "
                     f"title 'floor: one send ({floor['plain'] / 1000:.1f} µs)'")
    if floor.get("reader"):
        parts.append(f"{floor['reader'] / 1000:.3f} with lines lw 1 dt 3 lc rgb 'gray40' "
                     f"title 'floor, reader waiting ({floor['reader'] / 1000:.1f} µs)'")
    script.append("plot " + (", ".join(parts) if parts else "0 notitle"))
    script += [
        "set title '(c) bursts of 100 messages to 1k subscribers: server CPU per delivery'",
        "set xlabel ''", "set ylabel 'µs of server CPU per delivery'",
        "set style data histograms", "set style histogram clustered gap 1",
        "set style fill solid 0.85 border -1", "set boxwidth 0.8", "set key off", "set yrange [0:*]",
        f"plot '{bars}' using 2:xtic(1) lc rgb '#777777' notitle",
        "set key below",
        "set title '(d) server memory per idle connection'", "set ylabel 'KiB of server RSS per connection'",
    ]
    mem_parts = []
    for i, srv in enumerate(servers):
        src = f"'{mem}'" if i == 0 else "''"
        mem_parts.append(f"{src} using {i + 2}:xtic(1) title '{LABEL[srv]}' lc rgb '{colors[srv]}'")
    script.append("plot " + ", ".join(mem_parts))
    script.append("unset multiplot")
    gpfile = os.path.join(workdir, "plot.gp")
    with open(gpfile, "w") as f:
        f.write("\n".join(script) + "\n")
    r = subprocess.run([gp, gpfile], capture_output=True, text=True)
    if r.returncode != 0:
        return "gnuplot failed: " + r.stderr.strip()[:300]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot")
    a = ap.parse_args()
    bench = os.path.dirname(os.path.abspath(__file__))
    rows, env, sysctl = load(a.run_dir)
    quick = env.get("quick") == "1"
    servers = [s for s in SERVERS if any(r.get("server") == s for r in rows)]
    out_dir = os.path.dirname(os.path.abspath(a.out))
    png = a.plot or (os.path.join(a.run_dir, "fanout.png") if quick
                     else os.path.join(bench, "plots", "fanout.png"))
    os.makedirs(os.path.dirname(png), exist_ok=True)

    floor = {}
    for r in by(rows, workload="floor"):
        floor["reader" if r.get("reader") else "plain"] = r.get("single_ns")
        floor[("reader" if r.get("reader") else "plain") + "_row"] = r

    cpu = {wl: {s: cpu_aggregate([r for r in by(rows, workload=wl, server=s) if "rate" in r])
                for s in servers} for wl in "abc"}
    mem = {}
    for r in by(rows, workload="d"):
        mem.setdefault(r.get("variant"), {})[r["server"]] = r

    L = []
    w = L.append
    w("# Fan-out benchmarks: the realtime hub against nchan, Node ws and uWebSockets.js")
    w("")
    if quick:
        w("> **QUICK RUN (`bench/run.sh --quick`): smoke-test sizes, not the figures to quote.**")
        w("")
    w(f"Generated by `bench/run.sh{' --quick' if quick else ''}` on {env.get('started', '?')} "
      f"({int(env.get('elapsed_s', '0')) // 60} min {int(env.get('elapsed_s', '0')) % 60} s). "
      f"Hub: `modules/realtime.so` sha256 {env.get('so_sha256', '?')}… built {env.get('so_mtime', '?')} "
      f"(scripts/build.sh: {env.get('build', '?')}) over commit {env.get('git_commit', '?')} "
      f"with {env.get('git_dirty_files', '?')} uncommitted file(s) outside bench/. "
      f"Raw results: `{os.path.relpath(a.run_dir, out_dir)}/results.jsonl` (not committed). "
      f"Load average {env.get('loadavg_start', '?')} at the start, {env.get('loadavg_end', '?')} at the end: "
      "other work shares this machine, so throughput and latency are noisy; **server CPU seconds per "
      "delivery is the robust figure**.")
    w("")

    # ---- targets ----
    w("## Targets of issue 7")
    w("")
    trows = []
    fplain = floor.get("plain")
    freader = floor.get("reader")
    for wl in "ab":
        per = {srv: {r["rate"]: r for r in by(rows, workload=wl, server=srv) if "rate" in r} for srv in servers}
        hub = per.get("hub", {})
        if not hub:
            continue
        for peer, want_ratio, name in (("uws", 1.0, "≤ uWebSockets.js"), ("nchan", 1.3, "≥ 1.3× better than nchan")):
            common = sorted(set(hub) & set(per.get(peer, {})))
            if not common:
                continue
            ratios = [(rt, per[peer][rt]["cpu_us_per_delivery"] / hub[rt]["cpu_us_per_delivery"])
                      for rt in common if hub[rt]["cpu_us_per_delivery"] > 0]
            ok = [rt for rt, q in ratios if q >= want_ratio]
            detail = ", ".join(f"{rt:g}/s {per[peer][rt]['cpu_us_per_delivery'] / hub[rt]['cpu_us_per_delivery']:.2f}×"
                               + ("" if sustained(per[peer][rt]) else "*") for rt in common)
            trows.append([f"({wl}) server CPU per delivery {name}",
                          " / ".join(f"{hub[rt]['cpu_us_per_delivery']:.2f}" for rt in common) + " µs",
                          " / ".join(f"{per[peer][rt]['cpu_us_per_delivery']:.2f}" for rt in common) + " µs",
                          f"{LABEL[peer]} ÷ hub: {detail}",
                          verdict(len(ok) == len(ratios)) + f" (met at {len(ok)} of {len(ratios)} rates)"])
        # the floor: rates where one fan-out ends well before the next message, so
        # each socket gets one message per write (fan-out time <= half the interval)
        low = [rt for rt in sorted(hub) if hub[rt].get("ops_ok") and rt > 0 and
               hub[rt]["expected"] / hub[rt]["ops_ok"] * hub[rt]["cpu_us_per_delivery"] / 1e6 <= 0.5 / rt]
        if fplain and low:
            q = [hub[rt]["cpu_us_per_delivery"] / (fplain / 1000) for rt in low]
            qr = [hub[rt]["cpu_us_per_delivery"] / (freader / 1000) for rt in low] if freader else []
            trows.append([f"({wl}) within 1.2× of the floor (rates where a fan-out takes ≤ half the interval: one message per write)",
                          " / ".join(f"{hub[rt]['cpu_us_per_delivery']:.2f}" for rt in low) + " µs at "
                          + ", ".join(f"{rt:g}/s" for rt in low),
                          f"{fplain / 1000:.2f} µs (with a waiting reader: {freader / 1000:.2f} µs)" if freader
                          else f"{fplain / 1000:.2f} µs",
                          "hub ÷ floor: " + ", ".join(f"{x:.2f}×" for x in q)
                          + ("; ÷ reader floor: " + ", ".join(f"{x:.2f}×" for x in qr) if qr else ""),
                          verdict(all(x <= 1.2 for x in q)) + (" (reader floor: " + verdict(all(x <= 1.2 for x in qr)) + ")"
                                                              if qr else "")])
    hub_c, n_c = cpu["c"].get("hub"), cpu["c"].get("nchan")
    if hub_c is not None and n_c is not None:
        trows.append(["(c) ≥ 5× fewer CPU seconds per delivery than nchan", f"{hub_c:.2f} µs", f"{n_c:.2f} µs",
                      f"{n_c / hub_c:.1f}× fewer", verdict(n_c / hub_c >= 5)])
    dvar = None
    for v in mem:
        if "hub" in mem[v] and "uws" in mem[v]:
            if dvar is None or mem[v]["hub"].get("conns", 0) > mem[dvar]["hub"].get("conns", 0):
                dvar = v
    if dvar:
        h, u = mem[dvar]["hub"]["rss_per_conn_b"], mem[dvar]["uws"]["rss_per_conn_b"]
        trows.append([f"(d) memory per idle connection < uWebSockets.js ({dvar})", f"{h:,.0f} B", f"{u:,.0f} B",
                      f"{h / u:.2f}× uWS" if u > 0 else "–", verdict(h < u)])
    # p99 on (a), at the rates every server sustained
    a_rates = sorted({r["rate"] for r in by(rows, workload="a") if "rate" in r})
    wins, total, detail, skipped = 0, 0, [], []
    for rate in a_rates:
        at = [r for r in by(rows, workload="a") if r.get("rate") == rate]
        hub = [r for r in at if r["server"] == "hub"]
        peers = [r for r in at if r["server"] != "hub"]
        if not hub or not peers:
            continue
        if not all(sustained(r) for r in at):
            skipped.append(f"{rate:g}")
            continue
        total += 1
        best = min(peers, key=lambda r: r["lat_p99_ms"])
        ok = hub[0]["lat_p99_ms"] <= best["lat_p99_ms"]
        wins += ok
        detail.append(f"{rate:g}/s: {hub[0]['lat_p99_ms']:.1f} vs {best['lat_p99_ms']:.1f} ms "
                      f"({LABEL[best['server']]})")
    if total:
        trows.append(["(a) p99 latency ≤ every peer's (rates all sustained"
                      + (f"; not {', '.join(skipped)}/s" if skipped else "") + ")",
                      f"≤ at {wins} of {total} rates", "; ".join(detail), "", verdict(wins == total)])
    f_req = [r for r in by(rows, workload="f", variant="request-loop") if isinstance(r.get("resp"), dict)]
    if f_req:
        vals = sorted(r["resp"]["ns"] / r["resp"]["calls"] for r in f_req if r["resp"].get("calls"))
        med = vals[len(vals) // 2]
        trows.append(["(f) broadcast() under 1 µs in the request: calls in a loop",
                      f"{med:.0f} ns (median of {len(vals)} loops)", "1000 ns", "", verdict(med < 1000)])
    f_one = [r for r in by(rows, workload="f", variant="request-single") if isinstance(r.get("resp"), dict)
             and r["resp"].get("calls")]
    if f_one:
        ns = f_one[0]["resp"]["ns"] / f_one[0]["resp"]["calls"]
        trows.append(["(f) broadcast() under 1 µs in the request: one call per request",
                      f"{ns:,.0f} ns (mean of {f_one[0]['resp']['calls']} requests)", "1000 ns", "",
                      verdict(ns < 1000)])
    if by(rows, workload="g"):
        trows.append(["(g) Redis broker path", "not yet available", "", "", "not measured"])
    w(table(["target", "hub", "reference", "ratio", "verdict"], trows))
    w("")
    w("CPU comparisons are made at equal offered load, rate by rate (the per-rate rows are in the tables "
      "below); `*` marks a rate the peer did not sustain (it skipped publish ops or lost messages), where "
      "its figure is for what it managed to deliver. As the offered rate grows every server spends "
      "less per delivery: fan-outs overlap, several messages wait for the same socket and leave in one "
      "write (compare the floor's *16 messages in one write* column). The floor is `bench/floor`'s "
      "single 110-byte `write()` to one of 8,000 loopback sockets, as the issue defines it; with a "
      "reader blocked in epoll (as the load generator's clients are at low rates) a send also pays "
      "for waking it. (c) compares total CPU over all deliveries of the burst runs.")
    w("")

    # ---- machine ----
    w("## Machine and versions")
    w("")
    w(table(["", ""], machine(bench)))
    w("")
    w("Settings of the run:")
    w("")
    w("```")
    w(sysctl)
    w(f"pinning: {'server on CPU 0, load generator on CPU 1 (taskset)' if env.get('pin') == '1' else 'none'}")
    w("```")
    w("")

    # ---- method ----
    w("## How it is measured")
    w("")
    w("- **Client**: `bench/loadgen` (C, libuv): forks worker processes of at most 18,000 WebSocket "
      "clients each (one process may hold about 19,900 sockets here), spread over source addresses "
      "127.0.0.2-9. Every client subscribes to channel `g % channels`: with the native JSON message "
      "(`{\"action\":\"subscribe\",...}`, waiting for `subscribed`) for our hub, ws and uWS, and by URL "
      "(`/sub/<channel>`) for nchan. Clients answer pings.")
    w("- **Publisher**: the load generator's coordinator sends HTTP publish requests on keep-alive "
      "connections at a fixed rate of *ops* (late ops are skipped, so *achieved ops/s* can be below "
      "*offered*). One op is `count` messages to each channel of the workload: one `POST /pub.php?p=&from=&n=&count=` "
      "for our hub (a PHP page calling `Realtime\\broadcast()` in a loop, `bench/app/pub.php`), one "
      "`POST /pub?...` for the Node peers, and `POST /pub/<c1>,<c2>,...` (≤ 100 channels a request: nchan limits the joined ids to 1,024 bytes; "
      "pipelined) for nchan. The payload starts with `TS<CLOCK_MONOTONIC ns>:`, written just before the "
      "request goes out; receivers subtract it from their clock: that is the latency.")
    w("- **Server CPU**: utime+stime from `/proc/<pid>/stat` of every process of the server (the "
      "`php -S` process including its hub thread; nginx master and workers; the node process), "
      "from just before the first publish until the last delivery arrived. It includes handling the "
      "publish requests. **Memory**: the sum of `VmRSS` after the clients connected minus before, per "
      "connection; *kernel* is the change of `/proc/meminfo` Slab plus `/proc/net/sockstat` TCP memory "
      "per connection, which covers **both** ends of each loopback connection and anything else the "
      "machine did meanwhile.")
    w("- **Loss**: deliveries expected from successful publish requests minus deliveries received, "
      "waiting until nothing more arrives for 2 s.")
    w("- Servers: our hub under `php -S` (1 process = 1 hub); nginx+nchan with as many workers as the "
      "other servers have processes (1, or 6 for 100k connections, `listen ... reuseport`); "
      "`peers/ws_server.js` (a `Set` per channel); `peers/uws_server.js` (uWS topics, `app.publish`). "
      "Limits on queued bytes per client: `realtime.max_outbound` / uWS `maxBackpressure` with "
      "`closeOnBackpressureLimit` / ws `bufferedAmount` check: 1 MiB, 256 KiB in (e); nchan has none.")
    w("")

    # ---- floor ----
    w("## The floor: one send to one loopback socket")
    w("")
    frows = []
    for key, name in (("plain_row", "no reader (the issue's definition)"),
                      ("reader_row", "a reader blocked in epoll on the other CPU")):
        r = floor.get(key)
        if r:
            frows.append([name, r["pairs"], r["size"], f"{r['single_ns'] / 1000:.2f}",
                          f"{r['sep16_ns_per_msg'] / 1000:.2f}", f"{r['batch16_ns_per_msg'] / 1000:.3f}",
                          f"{r['writev16_ns_per_msg'] / 1000:.3f}"])
    w(table(["case", "pairs", "bytes", "1 write: µs/msg", "16 writes: µs/msg", "16 msgs in 1 write: µs/msg",
             "writev(16): µs/msg"], frows))
    w("")
    w("`bench/floor` writes to the accepted end of N loopback pairs and reads the sender's thread CPU "
      "time; the median of 9 rounds. The receiving TCP stack runs in the sender's context on loopback, "
      "so this is what a server pays per socket write. With a reader waiting in epoll the sender also "
      "pays for waking it, as a server with live clients does.")
    w("")

    # ---- workloads ----
    w("## (a) 10k subscribers on one channel, rate sweep")
    w("")
    w("Offered deliveries/s = offered ops/s × subscribers. The load generator's single CPU handles "
      "about 130-150k deliveries/s when each socket read holds one message (its own CPU is about "
      "6-8 µs per delivery, like the servers'), so above that the latency figures are the client's "
      "queueing as much as the server's; server CPU per delivery stays meaningful.")
    w("")
    w(pubsub_table(rows, "a", servers))
    w("")
    w("## (b) 10k clients over 1k channels")
    w("")
    w("One op publishes one message to every one of the 1,000 channels (10 subscribers each), so an op "
      "is 10,000 deliveries; offered ops/s × 10k = offered deliveries/s.")
    w("")
    w(pubsub_table(rows, "b", servers))
    w("")
    w("## (c) bursts: 100 messages back to back to 1k subscribers")
    w("")
    w("One op is 100 messages on one channel in one request (nchan: 100 pipelined requests). "
      "Latency is from the op's timestamp, so it includes the whole burst.")
    w("")
    w(pubsub_table(rows, "c", servers, show_php=True))
    w("")

    w("## (d) idle connections: memory")
    w("")
    drows = []
    for v in mem:
        for s in servers:
            r = mem[v].get(s)
            if not r:
                continue
            if "error" in r:
                drows.append([v, LABEL[s], "error: " + r["error"], "", "", "", "", "", ""])
                continue
            drows.append([v, LABEL[s], f"{r['conns_ok']:,} / {r['conns']:,}", r["server_procs"],
                          f"{r['connect_s']:.1f}", f"{(r['rss_conn_kb'] - r['rss_base_kb']) / 1024:.1f}",
                          f"{r['rss_per_conn_b']:,.0f}", f"{r['kernel_per_conn_b']:,.0f}",
                          f"{r.get('idle_cpu_pct', 0):.2f}%"])
    w(table(["clients × server processes", "server", "connected", "processes sampled", "connect s",
             "server RSS Δ MiB", "server RSS B/conn", "kernel B/conn (both ends)", "server CPU idle"], drows))
    w("")
    w("Each client is subscribed to one of 1,000 channels. Server process counts: 1 for 10k clients; "
      "6 for 100k (one process holds at most about 19,900 sockets: RLIMIT_NOFILE's hard limit is "
      "20,000 and the machine lacks CAP_SYS_RESOURCE). RSS includes what each server keeps per "
      "connection in user space; the kernel column is about 4 KiB per socket end on this kernel.")
    if any(r.get("conns_ok", 0) < r.get("conns", 0) for v in mem for r in mem[v].values() if "conns" in r):
        w("")
        w("**Not every client connected in some runs (see the `connected` column).**")
    w("")

    w("## (e) 1% slow consumers that stop reading")
    w("")
    erows = []
    after = {r["server"]: r for r in by(rows, workload="e", variant="slow-after")}
    for s in servers:
        for v in ("control", "slow"):
            for r in by(rows, workload="e", server=s, variant=v):
                if "rate" not in r:
                    if "error" in r:
                        erows.append([LABEL[s], v, "error: " + r["error"]] + [""] * 9)
                    continue
                a2 = after.get(s, {}) if v == "slow" else {}
                erows.append([LABEL[s], v, f"{r['conns_ok']:,}", f"{(r['conns'] + r['slow_every'] - 1) // r['slow_every'] if r['slow_every'] else 0}",
                              fmt(r["deliveries_per_s"]), f"{r['loss_pct']:.2f}%", fmt(r["lat_p50_ms"]),
                              fmt(r["lat_p99_ms"]), f"{(r['rss_peak_kb'] - r['rss_start_kb']) / 1024:.1f}",
                              f"{(r['rss_end_kb'] - r['rss_start_kb']) / 1024:.1f}",
                              f"{r['closed']}" , f"{a2.get('slow_closed_total', '–')}"])
    w(table(["server", "run", "clients", "slow clients", "healthy delivered/s", "healthy loss",
             "healthy p50 ms", "healthy p99 ms", "server RSS peak Δ MiB", "RSS Δ at end MiB",
             "healthy clients closed", "slow clients closed by the server"], erows))
    w("")
    pl = next((r["payload"] for r in by(rows, workload="e") if "payload" in r), None)
    w(f"1 client in 100 sets `SO_RCVBUF` to 4 KiB and stops reading once subscribed; {pl} B payloads; "
      "the per-client queue limit is 256 KiB for the hub, ws and uWS (nchan has no such limit). "
      "During this workload `net.ipv4.tcp_wmem`'s maximum is 64 KiB: with the default 4 MiB the "
      "kernel's autotuned send buffers absorb everything a stalled loopback client is sent and no "
      "server sees backpressure within the run. *control* is the same run without slow clients. "
      "After the run the slow clients read again, which shows whether the server had closed them; "
      "RSS Δ is the server's growth from the start of publishing.")
    w("")

    w("## (f) `Realtime\\broadcast()` calls per second from PHP")
    w("")
    frows = []
    for r in by(rows, workload="f"):
        v = r.get("variant")
        if v == "request-loop" and isinstance(r.get("resp"), dict) and r["resp"].get("calls"):
            ns = r["resp"]["ns"] / r["resp"]["calls"]
            frows.append([f"in a request (`php -S`), loop of {r['resp']['calls']:,} calls, nobody subscribed",
                          f"{ns:.0f}", f"{1e9 / ns:,.0f}"])
        elif v == "request-single" and isinstance(r.get("resp"), dict) and r["resp"].get("calls"):
            ns = r["resp"]["ns"] / r["resp"]["calls"]
            frows.append([f"in a request, one call per request ({r['resp']['calls']} requests)",
                          f"{ns:.0f}", f"{1e9 / ns:,.0f}"])
        elif v and v.startswith("cli") and "ns_per_call_median" in r:
            frows.append([f"CLI (`Realtime\\start()` then a loop of {r['calls']:,}), "
                          f"{'process pinned to one CPU' if v == 'cli-pinned' else 'not pinned'}; "
                          f"runs {r['ns_per_call_runs']} ns; empty loop {r['empty_loop_ns']} ns",
                          f"{r['ns_per_call_median']:.0f}", f"{r['calls_per_s']:,}"])
        elif "error" in r:
            frows.append([v, "error: " + r["error"], ""])
    for r in by(rows, workload="c", server="hub"):
        if r.get("php_calls"):
            frows.append([f"in a request during (c): bursts of 100 calls, 1k subscribers",
                          f"{r['php_ns_per_call']:.0f}", f"{1e9 / r['php_ns_per_call']:,.0f}"])
    w(table(["case", "ns per call", "calls per second"], frows))
    w("")
    w("Times are `hrtime()` around the loop in PHP, the loop itself included. In the server the PHP "
      "thread and the hub thread share CPU 0 when pinned.")
    w("")

    w("## (g) The Redis broker path")
    w("")
    w("**Not yet available**: the hub has no Redis broker yet (`realtime.broker` accepts only `memory`). "
      "The load generator needs nothing new for it: a server started with a Redis broker is measured "
      "the same way.")
    w("")

    w("## Plot")
    w("")
    err = gnuplot(rows, servers, floor, png, os.path.join(a.run_dir, "plot"))
    if err:
        w(err)
    else:
        w(f"![latency and server CPU against throughput, burst CPU and idle memory, against the peers]"
          f"({os.path.relpath(png, out_dir)})")
    w("")
    w("## Reproduce")
    w("")
    w("```")
    w("bash bench/run.sh            # everything, about 20 minutes; writes this file")
    w("bash bench/run.sh --quick    # smoke test, under 3 minutes; report in bench/results/<date>-quick/")
    w("bash bench/run.sh --servers hub,uws --workloads a,floor   # a subset")
    w("```")
    w("")
    with open(a.out, "w") as f:
        f.write("\n".join(L))
    print(f"report: wrote {a.out}" + ("" if err else f" and {png}"))


if __name__ == "__main__":
    main()
