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
import statistics
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


# ---- rounds: (a) and (b) run --repeats N times per server (rows carry "round") ----

def rnd(r):
    """The round of a result row (rows from before --repeats have none: round 1)."""
    return r.get("round") or 1


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def merge_runs(rs):
    """One row for the runs (rounds) of one workload, server and rate: every numeric field is the
    median over the runs (lists element by element); "runs" keeps the runs themselves and
    cpu_min / cpu_max the spread of server CPU µs per delivery. One run: that row as it is."""
    rs = sorted(rs, key=rnd)
    m = dict(rs[len(rs) // 2])
    if len(rs) > 1:
        for k in rs[0]:
            vals = [r.get(k) for r in rs]
            if all(_num(v) for v in vals):
                m[k] = statistics.median(vals)
            elif all(isinstance(v, list) and v and len(v) == len(vals[0]) and all(_num(x) for x in v)
                     for v in vals):
                m[k] = [statistics.median(c) for c in zip(*vals)]
        m.pop("round", None)
    m["runs"] = rs
    cpus = [r["cpu_us_per_delivery"] for r in rs]
    m["cpu_min"], m["cpu_max"] = min(cpus), max(cpus)
    return m


def aggregate(rows, workloads="abc"):
    """{workload: {server: {rate: merged row}}} for the rate sweeps."""
    agg = {}
    for wl in workloads:
        groups = {}
        for r in by(rows, workload=wl):
            if "rate" in r and "server" in r and "cpu_us_per_delivery" in r:
                groups.setdefault((r["server"], r["rate"]), []).append(r)
        agg[wl] = {}
        for (srv, rt), rs in groups.items():
            agg[wl].setdefault(srv, {})[rt] = merge_runs(rs)
    return agg


def n_runs(agg, wl):
    """The most runs any server had at any rate of a workload (1 when none)."""
    return max((len(m["runs"]) for per in agg.get(wl, {}).values() for m in per.values()), default=1)


def paired(h, p):
    """(hub run, peer run) of the same round, for two merged rows."""
    pr = {rnd(x): x for x in p["runs"]}
    return [(x, pr[rnd(x)]) for x in h["runs"] if rnd(x) in pr]


def per_run(f, r, *args):
    """f of a merged row: the median over its runs of f of each run (tuples element by element);
    None (or Nones) when any run has none."""
    runs = r.get("runs")
    if not runs or len(runs) == 1:
        return f(runs[0] if runs else r, *args)
    vals = [f(x, *args) for x in runs]
    if any(v is None for v in vals):
        return None
    if isinstance(vals[0], tuple):
        if any(None in v for v in vals):
            return tuple(None for _ in vals[0])
        return tuple(statistics.median(c) for c in zip(*vals))
    return statistics.median(vals)


def _sustained(r):
    return (r.get("loss_pct", 100) < 0.1 and r.get("achieved_rate", 0) >= 0.95 * r.get("rate", 0)
            and r.get("window_s", 1e9) <= r.get("duration_s", 0) * 1.2 + 0.5)


def sustained(r):
    """The server kept up: no loss, (almost) every op sent, deliveries done soon after publishing.
    A merged row: in more than half of its runs."""
    runs = r.get("runs")
    if runs and len(runs) > 1:
        return 2 * sum(_sustained(x) for x in runs) > len(runs)
    return _sustained(r)


def deliveries(r):
    return r.get("received", 0) + r.get("slow_received", 0)


def _split_us(r):
    dl = deliveries(r)
    if not dl or r.get("server_sys_s") is None:
        return None, None
    return ((r["server_cpu_s"] - r["server_sys_s"]) * 1e6 / dl, r["server_sys_s"] * 1e6 / dl)


def split_us(r):
    """(user, kernel) µs of server CPU per delivery (medians over the runs); (None, None) without stime."""
    return per_run(_split_us, r)


def _kernel_pct(r):
    if r.get("server_sys_s") is None or not r.get("server_cpu_s"):
        return None
    return 100.0 * r["server_sys_s"] / r["server_cpu_s"]


def kernel_pct(r):
    return per_run(_kernel_pct, r)


def _loadgen_pct(r):
    if not r.get("wall_s"):
        return None
    return 100.0 * r.get("client_cpu_s", 0) / r["wall_s"]


def loadgen_pct(r):
    """The load generator's CPU over the phase, in % of one CPU."""
    return per_run(_loadgen_pct, r)


def _others_pct(r, pinned):
    busy, wall = r.get("cpu_busy_s"), r.get("wall_s")
    if not busy or not wall or not pinned or len(busy) < 2:
        return None
    c0 = busy[0] - r.get("server_cpu_s", 0) - r.get("aux_cpu_s", 0)
    c1 = busy[1] - r.get("client_cpu_s", 0)
    return max(0.0, 100.0 * c0 / wall), max(0.0, 100.0 * c1 / wall)


def others_pct(r, pinned):
    """CPU used by processes outside the benchmark during the phase: (CPU 0 %, CPU 1 %)
    when the server is pinned to CPU 0 and the load generator to CPU 1."""
    return per_run(_others_pct, r, pinned)


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


def pubsub_table(agg, rows, wl, servers, show_php=False, pinned=True):
    """One line per server and rate; with several runs a rate, the medians over the runs and the
    spread of server CPU per delivery."""
    n = n_runs(agg, wl)
    multi = n > 1
    med = " (median)" if multi else ""
    hdr = ["server", "offered ops/s", "achieved ops/s", "expected", "delivered/s", "loss",
           "p50 ms", "p99 ms" + med, "p99.9 ms", "max ms", "server CPU µs/delivery" + med]
    if multi:
        hdr.append(f"CPU µs/delivery (min-max over {n} runs)")
    hdr += ["CPU-s per 1M", "kernel share", "load gen CPU", "others on CPU 0 / 1"]
    if show_php:
        hdr.append("broadcast() ns/call (in request)")
    out = []
    for s in servers:
        for r in sorted((r for r in by(rows, workload=wl, server=s) if "error" in r), key=rnd):
            out.append([LABEL[s], "error" + (f" (round {rnd(r)})" if multi else "") + ": " + r["error"]]
                       + [""] * (len(hdr) - 2))
        for rt in sorted(agg.get(wl, {}).get(s, {})):
            r = agg[wl][s][rt]
            k_runs = len(r["runs"])
            loss = f"{r['loss_pct']:.2f}%"
            worst = max(x["loss_pct"] for x in r["runs"])
            if worst > r["loss_pct"]:
                loss += f" (worst run {worst:.2f}%)"
            line = [LABEL[s], fmt(r["rate"], 1), fmt(r["achieved_rate"], 1), fmt(r["expected"]),
                    fmt(r["deliveries_per_s"]), loss,
                    fmt(r["lat_p50_ms"]), fmt(r["lat_p99_ms"]), fmt(r["lat_p999_ms"]),
                    fmt(r["lat_max_ms"]), f"{r['cpu_us_per_delivery']:.2f}"]
            if multi:
                line.append(f"{r['cpu_min']:.2f}-{r['cpu_max']:.2f}" + (f" ({k_runs} runs)" if k_runs != n else ""))
            line.append(f"{r['cpu_s_per_million']:.2f}")
            k, lgp, oth = kernel_pct(r), loadgen_pct(r), others_pct(r, pinned)
            line += [f"{k:.0f}%" if k is not None else "–", f"{lgp:.0f}%" if lgp is not None else "–",
                     f"{oth[0]:.0f}% / {oth[1]:.0f}%" if oth else "–"]
            if show_php:
                line.append(fmt(r.get("php_ns_per_call"), 0) if s == "hub" and r.get("php_calls") else "–")
            out.append(line)
    return table(hdr, out)


def rounds_note(agg, wl):
    """What the figures of a rate table are when a rate ran more than once."""
    n = n_runs(agg, wl)
    if n < 2:
        return None
    return (f"Each server's sweep ran {n} times, in rounds interleaved across the servers (round 1: "
            "every server once, then round 2, ...). Every figure of a line is the median over the runs "
            "of that rate (latencies, rates, CPU and the shares taken run by run); *min-max* is the "
            "lowest and highest server CPU per delivery of the runs, and *loss* the median with the "
            "worst run in brackets when it lost more.")


def lone_stats(r):
    """Medians (ns) of bench/app/lone.php's three timings."""
    out = {}
    for k in ("first", "idle", "next"):
        v = sorted(x[k] for x in r["samples"] if k in x)
        out[k] = v[len(v) // 2] if v else float("nan")
    return out


def profile(run_dir, srv):
    """Shares of a server's samples in `perf record` during run.sh's profile step (workload p)."""
    ch = os.path.join(run_dir, f"profile-{srv}-children.txt")
    ds = os.path.join(run_dir, f"profile-{srv}-dso.txt")
    if not os.path.exists(ch):
        return None
    out = {"samples": None, "kernel": None, "sendmsg": None, "wake": None, "syscall": 0.0}
    # the layer between the syscall and the socket: write()/writev() go through the VFS
    # (vfs_write, fdget_pos...), send()/sendto() do not
    layer = {"vfs_write", "vfs_writev", "do_writev", "fdget_pos", "ksys_write", "sock_write_iter",
             "__x64_sys_write", "__x64_sys_writev", "__sys_sendto", "__x64_sys_sendto", "fdget",
             "__sys_sendmsg", "___sys_sendmsg", "__x64_sys_sendmsg", "sock_sendmsg"}
    for line in open(ch, errors="replace"):
        m = re.match(r"# Samples: ([\d.]+)([KMG]?)", line)
        if m:
            out["samples"] = int(float(m.group(1)) * {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}[m.group(2)])
        m = re.match(r"\s+([\d.]+)%\s+([\d.]+)%\s+\[k\] (\S+)\s*$", line)
        if m:
            sym = m.group(3)
            if sym == "tcp_sendmsg" and out["sendmsg"] is None:
                out["sendmsg"] = float(m.group(1))
            elif sym == "sock_def_readable" and out["wake"] is None:
                out["wake"] = float(m.group(1))
            if sym in layer:
                out["syscall"] += float(m.group(2))
    if os.path.exists(ds):
        for line in open(ds, errors="replace"):
            m = re.match(r"\s+([\d.]+)%\s+\[kernel\.kallsyms\]", line)
            if m:
                out["kernel"] = float(m.group(1))
    return out if out["samples"] else None


G_VARIANTS = (("redis-1hub", "Redis, 1 hub"), ("redis-2hubs", "Redis, 2 hubs"))


def g_rows(rows, agg):
    """(label, row, memory-broker (a) row at the same rate: the median over (a)'s runs) for every
    phase of (g)."""
    mem = agg.get("a", {}).get("hub", {})
    out = []
    for v, label in G_VARIANTS:
        for r in sorted(by(rows, workload="g", server="hub", variant=v), key=lambda r: r.get("rate", 0)):
            if "rate" in r:
                out.append((label, r, mem.get(r["rate"])))
    return out


def g_split(r):
    """µs per delivery: hubs, redis-server, total."""
    dl = deliveries(r)
    if not dl:
        return None, None, None
    hubs = r["server_cpu_s"] * 1e6 / dl
    red = r.get("aux_cpu_s", 0) * 1e6 / dl
    return hubs, red, hubs + red


def g_table(rows, agg, pinned):
    hdr = ["broker", "offered ops/s", "achieved ops/s", "delivered/s", "loss", "p50 ms", "p99 ms",
           "hubs' CPU µs/delivery", "kernel share", "redis-server CPU µs/delivery (% of one CPU)",
           "total µs/delivery", "memory broker (a): µs/delivery, p50 / p99 ms", "total ÷ memory",
           "broadcast() µs/call (in request)", "others on CPU 0 / 1"]
    out = []
    for label, r, m in g_rows(rows, agg):
        hubs, red, tot = g_split(r)
        msgs = r.get("ops_ok", 0) * r.get("count", 1) * r.get("chan_per_op", 1)
        per_hub = r.get("pid_cpu_s") or []
        hub_txt = f"{hubs:.2f}"
        if len(per_hub) > 1 and deliveries(r):
            hub_txt += " (" + " + ".join(f"{c * 1e6 / deliveries(r):.2f}" for c in per_hub) + ")"
        k = kernel_pct(r)
        oth = others_pct(r, pinned)
        out.append([label, fmt(r["rate"], 1), fmt(r["achieved_rate"], 1), fmt(r["deliveries_per_s"]),
                    f"{r['loss_pct']:.2f}%", fmt(r["lat_p50_ms"]), fmt(r["lat_p99_ms"]), hub_txt,
                    f"{k:.0f}%" if k is not None else "–",
                    f"{red:.3f} ({100 * r.get('aux_cpu_s', 0) / r['wall_s']:.1f}%)" if r.get("wall_s") else f"{red:.3f}",
                    f"{tot:.2f}",
                    f"{m['cpu_us_per_delivery']:.2f}, {fmt(m['lat_p50_ms'])} / {fmt(m['lat_p99_ms'])}" if m else "–",
                    f"{tot / m['cpu_us_per_delivery']:.2f}×" if m and m["cpu_us_per_delivery"] else "–",
                    f"{r['php_ns_per_call'] / 1000:.1f}" if r.get("php_calls") else "–",
                    f"{oth[0]:.0f}% / {oth[1]:.0f}%" if oth else "–"])
    for r in by(rows, workload="g"):
        if "error" in r:
            out.append(["error: " + r["error"]] + [""] * (len(hdr) - 1))
    return table(hdr, out)


def g_summary(gr, rows):
    """A few sentences on (g), from its numbers."""
    out = []
    by_v = {}
    for lbl, r, m in gr:
        by_v.setdefault(lbl, []).append((r, m))
    for lbl, lst in by_v.items():
        cmp_ = [(r, m) for r, m in lst if m]
        tots = [(r["rate"], g_split(r)[2], m["cpu_us_per_delivery"]) for r, m in cmp_]
        reds = [100 * r.get("aux_cpu_s", 0) / r["wall_s"] for r, _ in lst if r.get("wall_s")]
        idle = next((x for x in by(rows, workload="g", variant="redis-idle") if x.get("seconds")), None)
        t = f"**{lbl}**: "
        if tots:
            t += ("server CPU per delivery (hubs + Redis) " + ", ".join(
                f"{tot:.2f} µs at {rt:g}/s ({tot / mem:.2f}× the memory broker's {mem:.2f})" for rt, tot, mem in tots))
        if reds:
            t += (f"; redis-server used {min(reds):.1f}-{max(reds):.1f}% of a CPU"
                  + (f" ({100 * idle['cpu_s'] / idle['seconds']:.1f}% when idle)" if idle else "")
                  + f", {min(g_split(r)[1] for r, _ in lst):.3f}-{max(g_split(r)[1] for r, _ in lst):.3f} µs per "
                  "delivery: Redis hands each message once to each hub, and the fan-out to the clients is the "
                  "hubs' work, as with the memory broker")
        lat = [f"{r['rate']:g}/s p50 {r['lat_p50_ms']:.0f} / p99 {r['lat_p99_ms']:.0f} ms"
               + (f" (memory: {m['lat_p50_ms']:.0f} / {m['lat_p99_ms']:.0f})" if m else "") for r, m in lst]
        t += "; latency " + ", ".join(lat)
        php = [r["php_ns_per_call"] for r, _ in lst if r.get("php_calls")]
        if php:
            idle_b = next((x["resp"] for x in by(rows, workload="g", variant="redis-broadcast-idle")
                           if isinstance(x.get("resp"), dict) and x["resp"].get("calls")), None)
            t += (f"; one `broadcast()` in the publishing request took {min(php) / 1000:.0f}-{max(php) / 1000:.0f} µs: "
                  "it waits for Redis's reply to `PUBLISH`"
                  + (f" ({idle_b['ns'] / idle_b['calls'] / 1000:.0f} µs in a loop on an idle server), and here "
                     "PHP, Redis and the hubs share CPU 0, so the reply waits while the hubs fan out" if idle_b else ""))
        loss = sum(r.get("loss", 0) for r, _ in lst)
        t += "; no message lost." if loss == 0 else f"; **{loss:,} deliveries lost**."
        if "2 hubs" in lbl:
            shares = []
            for r, _ in lst:
                pc = r.get("pid_cpu_s") or []
                if len(pc) == 2 and sum(pc) > 0:
                    shares.append(f"{r['rate']:g}/s {100 * pc[0] / sum(pc):.0f}% / {100 * pc[1] / sum(pc):.0f}%")
            if shares:
                t = t[:-1] + ("; the hubs' CPU split (publishing hub / other hub): " + ", ".join(shares) + ".")
        out.append(t)
    return "\n\n".join(out)


def gnuplot(rows, agg, servers, floor, png, workdir):
    gp = shutil.which("gnuplot")
    if not gp:
        return "gnuplot is not installed: no plot."
    os.makedirs(workdir, exist_ok=True)
    colors = {"hub": "#d62728", "nchan": "#1f77b4", "ws": "#2ca02c", "uws": "#9467bd"}
    plots = []
    for s in servers:
        pts = sorted((r["deliveries_per_s"], r["lat_p99_ms"], r["lat_p50_ms"])
                     for r in agg.get("a", {}).get(s, {}).values() if r["deliveries_per_s"] > 0)
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
                         for r in agg.get(wl, {}).get(srv, {}).values() if r["deliveries_per_s"] > 0)
            if not pts:
                continue
            path = os.path.join(workdir, f"cpu-{wl}-{srv}.dat")
            with open(path, "w") as f:
                for x, y in pts:
                    f.write(f"{x / 1000:.3f} {y:.4f}\n")
            cpu_lines.append((wl, srv, dash, path))
    bars = os.path.join(workdir, "burst.dat")
    have_c, have_d = False, False
    with open(bars, "w") as f:
        f.write("# server cpu\n")
        for srv in servers:
            v = cpu_aggregate([r for r in by(rows, workload="c", server=srv) if "rate" in r])
            have_c = have_c or v is not None
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
                have_d = have_d or vals[-1] != "NaN"
            f.write(f"{v} " + " ".join(vals) + "\n")
    script = [
        "set terminal pngcairo size 1500,1000 font 'DejaVu Sans,10'",
        f"set output '{png}'",
        "set multiplot layout 2,2",
        "set title '(a) one channel, 10k subscribers: p99 (solid) and p50 (dashed) latency"
        + (f", medians of {n_runs(agg, 'a')} runs" if n_runs(agg, "a") > 1 else "") + "'",
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
               "set title 'server CPU per delivery vs throughput: (a) solid, (b) dashed"
               + (", medians over the runs" if max(n_runs(agg, "a"), n_runs(agg, "b")) > 1 else "") + "'",
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
    ]
    # a workload left out of the run (--workloads): an empty panel saying so
    empty = ["set label 1 'not measured in this run' at graph 0.5, graph 0.5 center", "unset xtics",
             "set yrange [0:1]", "plot [0:1] -1 with lines notitle", "unset label 1", "set xtics", "set yrange [0:*]"]
    script += [f"plot '{bars}' using 2:xtic(1) lc rgb '#777777' notitle"] if have_c else empty
    script += [
        "set key below",
        "set title '(d) server memory per idle connection'", "set ylabel 'KiB of server RSS per connection'",
    ]
    mem_parts = []
    for i, srv in enumerate(servers):
        src = f"'{mem}'" if i == 0 else "''"
        mem_parts.append(f"{src} using {i + 2}:xtic(1) title '{LABEL[srv]}' lc rgb '{colors[srv]}'")
    script += ["plot " + ", ".join(mem_parts)] if have_d and mem_parts else empty
    script.append("unset multiplot")
    gpfile = os.path.join(workdir, "plot.gp")
    with open(gpfile, "w") as f:
        f.write("\n".join(script) + "\n")
    r = subprocess.run([gp, gpfile], capture_output=True, text=True)
    if r.returncode != 0:
        return "gnuplot failed: " + r.stderr.strip()[:300]
    return None


def rounds_intro(nr):
    """A sentence on the repeats of (a) and (b), or None for one run each."""
    multi = [wl for wl in "ab" if nr.get(wl, 1) > 1]
    if not multi:
        return None
    counts = {nr[wl] for wl in multi}
    if len(counts) == 1:
        t = " and ".join(f"({wl})" for wl in multi) + f" ran {counts.pop()} times per server and rate"
    else:
        t = "The sweeps ran " + " and ".join(f"({wl}) {nr[wl]} times" for wl in multi) + " per server and rate"
    return (t + ", in rounds interleaved across the servers, so that the machine's drifting load falls "
            "on every server alike; their tables and verdicts use the median of the runs at each rate.")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot")
    a = ap.parse_args()
    bench = os.path.dirname(os.path.abspath(__file__))
    rows, env, sysctl = load(a.run_dir)
    quick = env.get("quick") == "1"
    pinned = env.get("pin") == "1"
    servers = [s for s in SERVERS if any(r.get("server") == s for r in rows)]
    out_dir = os.path.dirname(os.path.abspath(a.out))
    png = a.plot or (os.path.join(a.run_dir, "fanout.png") if quick
                     else os.path.join(bench, "plots", "fanout.png"))
    os.makedirs(os.path.dirname(png), exist_ok=True)

    floor = {}
    for r in by(rows, workload="floor"):
        if r.get("wake"):
            floor["wake_row"] = r
            continue
        floor["reader" if r.get("reader") else "plain"] = r.get("single_ns")
        floor[("reader" if r.get("reader") else "plain") + "_row"] = r

    cpu = {wl: {s: cpu_aggregate([r for r in by(rows, workload=wl, server=s) if "rate" in r])
                for s in servers} for wl in "abc"}
    agg = aggregate(rows)
    nr = {wl: n_runs(agg, wl) for wl in "ab"}
    repeats = env.get("repeats")
    rep_opt = f" --repeats {repeats}" if repeats and repeats != ("1" if quick else "3") else ""
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
    w(f"Generated by `bench/run.sh{' --quick' if quick else ''}{rep_opt}` on {env.get('started', '?')} "
      f"({int(env.get('elapsed_s', '0')) // 60} min {int(env.get('elapsed_s', '0')) % 60} s). "
      f"Hub: `modules/realtime.so` sha256 {env.get('so_sha256', '?')}… built {env.get('so_mtime', '?')} "
      f"(scripts/build.sh: {env.get('build', '?')}) over commit {env.get('git_commit', '?')} "
      f"with {env.get('git_dirty_files', '?')} uncommitted file(s) outside bench/. "
      f"Raw results: `{os.path.relpath(a.run_dir, out_dir)}/results.jsonl` (not committed). "
      f"Load average {env.get('loadavg_start', '?')} at the start, {env.get('loadavg_end', '?')} at the end: "
      "other work shares this machine, so throughput and latency are noisy; **server CPU seconds per "
      "delivery is the robust figure**."
      + (" " + rounds_intro(nr) if rounds_intro(nr) else ""))
    w("")

    # ---- targets ----
    w("## Targets of issue 7")
    w("")
    trows, why = [], []
    fplain = floor.get("plain")
    freader = floor.get("reader")
    profs = {s2: profile(a.run_dir, s2) for s2 in servers}
    prof_rows = {r["server"]: r for r in by(rows, workload="p") if "rate" in r}

    def us(x):
        return f"{x:.2f} µs"

    def run_noise():
        """How far two runs of the same thing differ on this machine. With several runs a rate: the
        largest spread (max - min) / min of one server's CPU per delivery at one rate of (a) or (b)
        (sustained runs). With one: the largest difference between (a) and (b) for one server at one
        rate (both make the same number of writes an op). {"frac", "text"} or None."""
        out = []
        if max(nr.values()) > 1:
            for wl in "ab":
                for srv, per in agg.get(wl, {}).items():
                    for rt, m in per.items():
                        cs = [x["cpu_us_per_delivery"] for x in m["runs"] if _sustained(x)]
                        if len(cs) >= 2 and min(cs) > 0:
                            out.append(((max(cs) - min(cs)) / min(cs), srv, rt, min(cs), max(cs), wl, len(cs)))
            if not out:
                return None
            q, srv, rt, lo, hi, wl, k = max(out)
            return {"frac": q, "multi": True,
                    "short": f"runs of one rate differ by up to {100 * q:.0f}% here",
                    "text": f"the same server doing the same writes differed by up to {100 * q:.0f}% between "
                            f"runs of one rate ({LABEL[srv]}, ({wl}) at {rt:g}/s: {lo:.2f}-{hi:.2f} µs over {k} runs)"}
        for srv in ("hub", "uws", "nchan", "ws"):
            A, B = agg.get("a", {}).get(srv, {}), agg.get("b", {}).get(srv, {})
            for rt in set(A) & set(B):
                if not (sustained(A[rt]) and sustained(B[rt])):
                    continue
                x, y = A[rt]["cpu_us_per_delivery"], B[rt]["cpu_us_per_delivery"]
                if x > 0 and y > 0:
                    out.append((abs(x - y) / min(x, y), srv, rt, x, y))
        if not out:
            return None
        q, srv, rt, x, y = max(out)
        return {"frac": q, "multi": False,
                "short": f"the same writes differ by up to {100 * q:.0f}% between (a) and (b) here",
                "text": f"the same server doing the same writes differed by up to {100 * q:.0f}% between (a) "
                        f"and (b) ({LABEL[srv]} at {rt:g}/s: {x:.2f} vs {y:.2f} µs)"}

    noise = run_noise()

    def cpu_of(r):
        return r["cpu_us_per_delivery"]

    for wl in "ab":
        per = {srv: agg.get(wl, {}).get(srv, {}) for srv in servers}
        hub = per.get("hub", {})
        if not hub:
            continue
        multi = nr[wl] > 1
        meds = " (medians)" if multi else ""
        for peer, want_ratio, name, held_txt in (
                ("uws", 1.0, "≤ uWebSockets.js", "hub ≤ uWS"),
                ("nchan", 1.3, "≥ 1.3× better than nchan", "hub ≥ 1.3× better than nchan")):
            common = sorted(rt for rt in set(hub) & set(per.get(peer, {})) if cpu_of(hub[rt]) > 0)
            if not common:
                continue
            pr = per[peer]
            ratios = {rt: cpu_of(pr[rt]) / cpu_of(hub[rt]) for rt in common}
            ok = [rt for rt in common if ratios[rt] >= want_ratio]
            missed = [rt for rt in common if ratios[rt] < want_ratio]
            # run by run, hub and peer paired by round
            held = {rt: [cpu_of(x) > 0 and cpu_of(y) / cpu_of(x) >= want_ratio for x, y in paired(hub[rt], pr[rt])]
                    for rt in common}
            n_held, n_pairs = sum(sum(v) for v in held.values()), sum(len(v) for v in held.values())
            detail = ", ".join(f"{rt:g}/s {ratios[rt]:.2f}×" + ("" if sustained(pr[rt]) else "*")
                               + (f" [{sum(held[rt])}/{len(held[rt])}]" if multi else "") for rt in common)
            label = f"({wl}) server CPU per delivery {name}"
            trows.append([label,
                          " / ".join(f"{cpu_of(hub[rt]):.2f}" for rt in common) + " µs",
                          " / ".join(f"{cpu_of(pr[rt]):.2f}" for rt in common) + " µs",
                          f"{LABEL[peer]} ÷ hub: {detail}",
                          verdict(not missed) + f" (met at {len(ok)} of {len(common)} rates"
                          + (" by the medians" if multi else "") + ")"
                          + (f"<br>{held_txt} in {n_held} of {n_pairs} rate-runs" if multi else "")])
            if not missed:
                continue
            runs_txt = ""
            if multi:
                runs_txt = (f"Run by run (paired by round), {held_txt} in {n_held} of {n_pairs} rate-runs; at the "
                            "rates the medians miss: " + ", ".join(
                                f"{rt:g}/s {sum(held[rt])} of {len(held[rt])}" for rt in missed) + ".")
            splits = [(split_us(hub[rt]), split_us(pr[rt])) for rt in missed]
            known = [(hs, ps) for hs, ps in splits if hs[0] is not None and ps[0] is not None]
            gaps = {rt: 1 / ratios[rt] for rt in missed}
            pairs = ", ".join(f"{cpu_of(hub[rt]):.2f} vs {cpu_of(pr[rt]):.2f} µs at {rt:g}/s" for rt in missed)
            if peer == "uws":
                parts = [f"Hub vs uWS{meds}: {pairs}."]
                ks = [k for k in [kernel_pct(hub[rt]) for rt in missed] + [kernel_pct(pr[rt]) for rt in missed]
                      if k is not None]
                ph, pu = prof_rows.get("hub"), prof_rows.get("uws")
                pfh, pfu = profs.get("hub"), profs.get("uws")
                t = ""
                if ks:
                    t = (f"Both spend {min(ks):.0f}-{max(ks):.0f}% of their CPU in the kernel on the same path, one "
                         "`write`/`sendto` per delivery"
                         + (f" ({pfh['wake']:.0f}% vs {pfu['wake']:.0f}% of it waking the reader)"
                            if pfh and pfu and pfh.get("wake") is not None and pfu.get("wake") is not None else ""))
                worst = max(gaps.values()) - 1
                if noise and worst <= noise["frac"]:
                    t += ((", and gaps" if t else "Gaps") + " this size are "
                          + ("within the run-to-run spread" if noise["multi"] else "noise") + " here: " + noise["text"]
                          + (f", and the profiling rerun at {ph['rate']:g}/s gave the hub {cpu_of(ph):.2f} "
                             f"and uWS {cpu_of(pu):.2f} µs" if ph and pu else ""))
                elif known:
                    dk = sum(hs[1] - ps[1] for hs, ps in known) / len(known)
                    du = sum(hs[0] - ps[0] for hs, ps in known) / len(known)
                    t += ((", and the gap" if t else "The gap") + ", larger than "
                          + ("the run-to-run spread" if noise and noise["multi"] else "this run's noise")
                          + f", is {dk:+.2f} µs kernel and {du:+.2f} µs user time (the hub's own code) on average")
                if t:
                    parts.append(t + ".")
                if runs_txt:
                    parts.append(runs_txt)
                if pfh and pfu and ph and pfh["syscall"] - pfu["syscall"] >= 1:
                    parts.append(f"The one systematic difference `perf` shows: the system-call layer above the socket costs {pfh['syscall']:.1f}% "
                                 f"of the hub's CPU against {pfu['syscall']:.1f}% for uWS's, about "
                                 f"{(pfh['syscall'] - pfu['syscall']) / 100 * cpu_of(ph):.2f} µs per delivery.")
                why.append((label, " ".join(parts)))
            else:
                t = f"Hub vs nchan{meds}: {pairs}. "
                if known and len(known) == len(missed):
                    rms = [(rt, cpu_of(pr[rt]) / 1.3 - hs[1]) for rt, (hs, ps) in zip(missed, splits)]
                    t += ("1.3× better means ≤ " + " / ".join(f"{cpu_of(pr[rt]) / 1.3:.2f}" for rt in missed)
                          + " µs, but the hub's kernel time alone, one write per delivery that wakes a waiting reader"
                          + (f" ({freader / 1000:.2f} µs on the floor)" if freader else "") + ", is "
                          + " / ".join(f"{hs[1]:.2f}" for hs, ps in known) + " µs, leaving "
                          + " / ".join("nothing" if r <= 0 else f"{r:.2f} µs" for rt, r in rms)
                          + " for user space, where the hub spends " + " / ".join(f"{hs[0]:.2f}" for hs, ps in known)
                          + " µs (nchan " + " / ".join(f"{ps[0]:.2f}" for hs, ps in known) + ")")
                    near = [rt for rt in missed if ratios[rt] >= 1.3 * 0.95]
                    t += ("; the miss at " + ", ".join(f"{rt:g}/s ({ratios[rt]:.2f}×)" for rt in near)
                          + " is within 5% of the target"
                          + (f" ({noise['short']})" if noise and noise["frac"] >= 0.05 else "") + "." if near else ".")
                if runs_txt:
                    t = t.rstrip() + " " + runs_txt
                why.append((label, t.strip()))
        # the floor: rates where one fan-out ends well before the next message, so
        # each socket gets one message per write (fan-out time <= half the interval)
        low = [rt for rt in sorted(hub) if hub[rt].get("ops_ok") and rt > 0 and
               hub[rt]["expected"] / hub[rt]["ops_ok"] * cpu_of(hub[rt]) / 1e6 <= 0.5 / rt]
        if fplain and low:
            q = [cpu_of(hub[rt]) / (fplain / 1000) for rt in low]
            qr = [cpu_of(hub[rt]) / (freader / 1000) for rt in low] if freader else []
            label = f"({wl}) within 1.2× of the floor (rates where a fan-out takes ≤ half the interval: one message per write)"
            trows.append([label,
                          " / ".join(f"{cpu_of(hub[rt]):.2f}" for rt in low) + " µs at "
                          + ", ".join(f"{rt:g}/s" for rt in low)
                          + (" (median; runs " + ", ".join(f"{hub[rt]['cpu_min']:.2f}-{hub[rt]['cpu_max']:.2f}"
                                                          for rt in low) + ")" if multi else ""),
                          f"{fplain / 1000:.2f} µs (with a waiting reader: {freader / 1000:.2f} µs)" if freader
                          else f"{fplain / 1000:.2f} µs",
                          "hub ÷ floor: " + ", ".join(f"{x:.2f}×" for x in q)
                          + ("; ÷ reader floor: " + ", ".join(f"{x:.2f}×" for x in qr) if qr else ""),
                          verdict(all(x <= 1.2 for x in q)) + (" (reader floor: " + verdict(all(x <= 1.2 for x in qr)) + ")"
                                                              if qr else "")])
            if not all(x <= 1.2 for x in q):
                ks = [split_us(hub[rt])[1] for rt in low]
                ph = profs.get("hub")
                t = (f"The issue's floor ({fplain / 1000:.2f} µs) is a write that wakes nobody, but every "
                     "load-generator client waits in epoll, so each hub write also wakes one"
                     + (f" (`perf`: {ph['wake']:.0f}% of the hub's CPU in `sock_def_readable`)" if ph and ph.get("wake") is not None else ""))
                if ks and all(k is not None for k in ks):
                    t += (": the hub's kernel time alone is " + " / ".join(f"{k:.2f}" for k in ks)
                          + f" µs ({'median, ' if multi else ''}{min(ks) / (fplain / 1000):.2f}× that floor)")
                if qr:
                    t += (f", and against the floor with a waiting reader ({freader / 1000:.2f} µs) the hub is at "
                          + ", ".join(f"{x:.2f}×" for x in qr) + ("." if all(x <= 1.2 for x in qr) else ""))
                    if not all(x <= 1.2 for x in qr):
                        ra = agg.get("a", {}).get("hub", {})
                        same = [rt for rt in low if rt in ra] if wl == "b" else []
                        if same:
                            t += ("; the same writes in (a) cost " + " / ".join(f"{cpu_of(ra[rt]):.2f}" for rt in same)
                                  + f" µs ({'median, ' if nr['a'] > 1 else ''}" + ", ".join(f"{cpu_of(ra[rt]) / (freader / 1000):.2f}×" for rt in same)
                                  + ")")
                            if multi or nr["a"] > 1:
                                # do the runs of (a) and (b) at these rates overlap?
                                over = [rt for rt in same if ra[rt]["cpu_min"] <= hub[rt]["cpu_max"]
                                        and hub[rt]["cpu_min"] <= ra[rt]["cpu_max"]]
                                t += (": the runs " + ("overlap" if len(over) == len(same) else
                                                       "overlap at " + ", ".join(f"{rt:g}/s" for rt in over) if over
                                                       else "do not overlap")
                                      + " (" + "; ".join(f"{rt:g}/s: (a) {ra[rt]['cpu_min']:.2f}-{ra[rt]['cpu_max']:.2f}, "
                                                        f"(b) {hub[rt]['cpu_min']:.2f}-{hub[rt]['cpu_max']:.2f} µs"
                                                        for rt in same) + ")"
                                      + (", so the difference is within the run-to-run spread." if len(over) == len(same)
                                         else "."))
                            else:
                                t += ", so the difference is this run's noise."
                        else:
                            t += "."
                else:
                    t += "."
                why.append((label, t))
    hub_c, n_c = cpu["c"].get("hub"), cpu["c"].get("nchan")
    if hub_c is not None and n_c is not None:
        label = "(c) ≥ 5× fewer CPU seconds per delivery than nchan"
        trows.append([label, f"{hub_c:.2f} µs", f"{n_c:.2f} µs",
                      f"{n_c / hub_c:.1f}× fewer", verdict(n_c / hub_c >= 5)])
        if n_c / hub_c < 5:
            why.append((label, "Not analysed by this report: compare the (c) rows' kernel shares."))
    dvar = None
    for v in mem:
        if "hub" in mem[v] and "uws" in mem[v]:
            if dvar is None or mem[v]["hub"].get("conns", 0) > mem[dvar]["hub"].get("conns", 0):
                dvar = v
    if dvar:
        h, u = mem[dvar]["hub"]["rss_per_conn_b"], mem[dvar]["uws"]["rss_per_conn_b"]
        label = f"(d) memory per idle connection < uWebSockets.js ({dvar})"
        trows.append([label, f"{h:,.0f} B", f"{u:,.0f} B", f"{h / u:.2f}× uWS" if u > 0 else "–", verdict(h < u)])
        if h >= u:
            why.append((label, "Not analysed by this report: see (d)."))
    # p99 on (a), at the rates every server sustained (medians over the runs)
    A = agg.get("a", {})
    multi_a = nr["a"] > 1
    a_rates = sorted({rt for per_s in A.values() for rt in per_s})
    wins, total, detail, skipped, lost, run_ok, run_n = 0, 0, [], [], [], 0, 0
    for rate in a_rates:
        at = {srv: A[srv][rate] for srv in servers if rate in A.get(srv, {})}
        if "hub" not in at or len(at) < 2:
            continue
        if not all(sustained(r) for r in at.values()):
            skipped.append(f"{rate:g}")
            continue
        total += 1
        h = at["hub"]
        peers = [r for srv, r in at.items() if srv != "hub"]
        best = min(peers, key=lambda r: r["lat_p99_ms"])
        ok = h["lat_p99_ms"] <= best["lat_p99_ms"]
        wins += ok
        if not ok:
            lost.append((rate, h, best))
        # run by run: the hub's run of round k against every peer's run of round k
        r_ok = r_n = 0
        for x in h["runs"]:
            prs = [next((y for y in p["runs"] if rnd(y) == rnd(x)), None) for p in peers]
            if any(y is None for y in prs):
                continue
            r_n += 1
            r_ok += x["lat_p99_ms"] <= min(y["lat_p99_ms"] for y in prs)
        run_ok, run_n = run_ok + r_ok, run_n + r_n
        detail.append(f"{rate:g}/s: {h['lat_p99_ms']:.1f} vs {best['lat_p99_ms']:.1f} ms "
                      f"({LABEL[best['server']]})" + (f" [{r_ok}/{r_n}]" if multi_a else ""))
    if total:
        label = ("(a) p99 latency ≤ every peer's (rates all sustained"
                 + (f"; not {', '.join(skipped)}/s" if skipped else "") + ")")
        trows.append([label, f"≤ at {wins} of {total} rates" + (" (medians)" if multi_a else ""),
                      "; ".join(detail), "",
                      verdict(wins == total)
                      + (f"<br>hub ≤ every peer in {run_ok} of {run_n} rate-runs" if multi_a else "")])
        if lost:
            parts, fan = [], []
            for rate, h, b in lost:
                n_sub = h["expected"] / h["ops_ok"] if h.get("ops_ok") else 0
                parts.append(f"{h['lat_p99_ms']:.1f} vs {b['lat_p99_ms']:.1f} ms ({LABEL[b['server']]}) at {rate:g}/s")
                fan.append(f"hub {n_sub * cpu_of(h) / 1000:.0f} ms, {LABEL[b['server']]} "
                           f"{n_sub * cpu_of(b) / 1000:.0f} ms at {rate:g}/s")
            t = (f"Hub vs best peer{' (medians)' if multi_a else ''}: {'; '.join(parts)}. At these rates p99 is "
                 "about the time to write to every subscriber one after the other (subscribers × CPU per "
                 f"delivery: {'; '.join(fan)})")
            cpu_pairs = "; ".join(f"{cpu_of(h):.2f} vs {cpu_of(b):.2f} µs at {rate:g}/s" for rate, h, b in lost)
            if all(cpu_of(h) > cpu_of(b) for rate, h, b in lost):
                gap = max(cpu_of(h) / cpu_of(b) - 1 for rate, h, b in lost)
                t += f", so it follows the CPU gap between them ({cpu_pairs}: {100 * gap:.0f}% at most)"
                if noise:
                    t += (", within the run-to-run spread" if gap <= noise["frac"] else ", more than the run-to-run spread") \
                         + f" ({noise['short']})"
            else:
                t += f"; the hub's CPU per delivery is not the higher one everywhere ({cpu_pairs})"
            ph, pu = prof_rows.get("hub"), prof_rows.get("uws")
            if ph and pu:
                t += (f"; the profiling rerun at {ph['rate']:g}/s gave {ph['lat_p99_ms']:.1f} ms (hub) and "
                      f"{pu['lat_p99_ms']:.1f} ms (uWS)")
            t += "."
            if multi_a:
                t += f" Run by run (paired by round) the hub's p99 was ≤ every peer's in {run_ok} of {run_n} rate-runs."
            why.append((label, t))
    f_req = [r for r in by(rows, workload="f", variant="request-loop") if isinstance(r.get("resp"), dict)]
    loop_med = None
    if f_req:
        vals = sorted(r["resp"]["ns"] / r["resp"]["calls"] for r in f_req if r["resp"].get("calls"))
        loop_med = vals[len(vals) // 2]
        label = "(f) broadcast() under 1 µs in the request: calls in a loop"
        trows.append([label, f"{loop_med:.0f} ns (median of {len(vals)} loops)", "1000 ns", "", verdict(loop_med < 1000)])
        if loop_med >= 1000:
            cli = next((r for r in by(rows, workload="f", variant="cli-pinned") if "ns_per_call_median" in r), None)
            why.append((label, "The three loops took " + ", ".join(f"{v:.0f}" for v in vals) + " ns per call. "
                        "Under `php -S`, a server SAPI, `broadcast()` goes through the shared-memory ring that "
                        "joins a server's workers (`broker/pool.c`: a process-shared lock, the message encoded "
                        "into the ring; waking the other hubs is left to this worker's hub while it keeps publishing)"
                        + (f", while the CLI, with no workers, hands it straight to its own hub: {cli['ns_per_call_median']:.0f} ns "
                           "a call" if cli else "")
                        + "; the hub thread draining the ring shares CPU 0 with the loop."))
    def f_resp(variant):
        """(median ns or None, mean ns, requests) of a one-call-per-request row of (f), or None."""
        r = next((x for x in by(rows, workload="f", variant=variant)
                  if isinstance(x.get("resp"), dict) and x["resp"].get("calls")), None)
        if not r:
            return None
        return r["resp"].get("median_ns") or None, r["resp"]["ns"] / r["resp"]["calls"], r["resp"]["calls"]

    def usf(ns):
        return f"{ns / 1000:.1f}" if ns < 100000 else f"{ns / 1000:.0f}"

    def mm(x):
        """'median X µs, mean Y µs' of an f_resp()."""
        return (f"median {usf(x[0])} µs, mean {usf(x[1])} µs" if x[0] else f"mean {usf(x[1])} µs")

    one, ref = f_resp("request-single"), f_resp("ref-single")
    if one:
        med, mean, n_req = one
        basis = med if med else mean
        label = "(f) broadcast() under 1 µs in the request: one call per request"
        wb = next((x["resp"] for x in by(rows, workload="f", variant="request-single")
                   if isinstance(x.get("resp"), dict) and "batched" in x["resp"]), None)
        hub_cell = (f"median {med:,.0f} ns, mean {mean:,.0f} ns" if med else f"{mean:,.0f} ns (mean)") \
            + f" ({n_req} requests, the request's first call" \
            + (f"; {wb['batched']} of them left waking the other hubs to the worker's hub, {wb['woke']} woke them"
               if wb else "") + ")"
        ref_cell = "1000 ns"
        ratio_cell = ""
        if ref:
            ref_cell += ("; `json_encode()` of the payload as the request's first call (`pub.php?ref=1`): "
                         + (f"median {ref[0]:,.0f} ns, " if ref[0] else "") + f"mean {ref[1]:,.0f} ns")
            ratio_cell = ("broadcast() − json_encode(): " + (f"median {med - ref[0]:+,.0f} ns, " if med and ref[0] else "")
                          + f"mean {mean - ref[1]:+,.0f} ns")
        trows.append([label, hub_cell, ref_cell, ratio_cell,
                      verdict(basis < 1000) + (f" (by the median; the mean is {'under' if mean < 1000 else 'over'} 1 µs)"
                                               if med else " (by the mean)")])
        if basis >= 1000:
            wk = floor.get("wake_row")
            lone = {r["variant"]: (lone_stats(r), len(r["samples"])) for r in by(rows, workload="f")
                    if r.get("variant") in ("lone", "lone-unpinned") and r.get("samples")}
            unp, unp_ref = f_resp("request-single-unpinned"), f_resp("ref-single-unpinned")
            t = f"The request's first `broadcast()` took {mm(one)} over {n_req} requests"
            if wb:
                t += (f" ({wb['batched']} of those calls made no system call, leaving the wake-up of the other hubs to "
                      f"the worker's hub within `realtime.batch_window`; {wb['woke']} woke them from the request)")
            if unp:
                t += f" (`php -S` not pinned: {mm(unp)})"
            t += "."
            if ref:
                t += (f" The same requests with `json_encode()` of the payload in its place (`pub.php?ref=1`; "
                      f"`broadcast()` starts by JSON-encoding the message) took {mm(ref)} for that first call"
                      + (f" (not pinned: {mm(unp_ref)})" if unp_ref else ""))
                if med and ref[0]:
                    t += (f": {100 * ref[0] / med:.0f}% of `broadcast()`'s median; `broadcast()` took "
                          f"{usf(med - ref[0])} µs more at the median" if med >= ref[0] else
                          ", more than `broadcast()` at the median")
                t += "."
            if "lone" in lone:
                st, n_l = lone["lone"]
                t += (f" In `bench/app/lone.php` (medians of {n_l} requests) the request's first call took "
                      f"{usf(st['first'])} µs, a call 2 ms later {usf(st['idle'])} µs and the call right after "
                      f"that {usf(st['next'])} µs")
                if "lone-unpinned" in lone:
                    su = lone["lone-unpinned"][0]
                    t += f" (not pinned: {usf(su['first'])} / {usf(su['idle'])} / {usf(su['next'])} µs)"
                t += "."
            if wk:
                t += (f" For scale, `bench/floor --wake`: a `sendto()` that wakes a thread asleep in epoll takes "
                      f"{usf(wk['same_cpu_ns'])} µs (same CPU) / {usf(wk['other_cpu_ns'])} µs (other CPU), "
                      f"{usf(wk['nowaiter_ns'])} µs when nobody waits.")
            if loop_med:
                t += f" In a loop, a call takes {loop_med:.0f} ns."
            why.append((label, t))
    gr = g_rows(rows, agg)
    if gr:
        by_v, mems = {}, {}
        for lbl, r, m in gr:
            by_v.setdefault(lbl.replace("Redis, ", ""), []).append(r)
            if m:
                mems[r["rate"]] = m
        rates = sorted({r["rate"] for lst in by_v.values() for r in lst})
        rtxt = " / ".join(f"{rt:g}" for rt in rates) + "/s"
        cell_h = "; ".join(
            f"{v}: " + " / ".join(f"{g_split(r)[2]:.2f}" for r in lst) + " µs, p99 "
            + " / ".join(f"{r['lat_p99_ms']:.0f}" for r in lst) + " ms" for v, lst in by_v.items())
        redmax = max(g_split(r)[1] for lst in by_v.values() for r in lst)
        cell_h = f"at {rtxt}: " + cell_h + f" (Redis's share ≤ {redmax:.3f} µs)"
        cell_r = ("memory broker (a): " + " / ".join(f"{mems[rt]['cpu_us_per_delivery']:.2f}" if rt in mems else "–"
                                                    for rt in rates)
                  + " µs, p99 " + " / ".join(f"{mems[rt]['lat_p99_ms']:.0f}" if rt in mems else "–" for rt in rates) + " ms")
        cell_q = "Redis ÷ memory: " + "; ".join(
            f"{v} " + " / ".join(f"{g_split(r)[2] / mems[r['rate']]['cpu_us_per_delivery']:.2f}×" if r["rate"] in mems else "–"
                                 for r in lst) for v, lst in by_v.items())
        lossless = all(r["loss_pct"] == 0 for _, r, _ in gr)
        trows.append(["(g) Redis broker path: (a)'s fan-out through Redis, 1 hub and 2 hubs; CPU per delivery (hubs + Redis)",
                      cell_h, cell_r, cell_q,
                      "**measured** (no numeric target)" + ("; no loss" if lossless else "; **loss**")])
    elif by(rows, workload="g"):
        trows.append(["(g) Redis broker path", "not measured: " + next((r.get("error", "") for r in by(rows, workload="g")), ""),
                      "", "", "not measured"])
    w(table(["target", "hub", "reference", "ratio", "verdict"], trows))
    w("")
    w("CPU comparisons are made at equal offered load, rate by rate (the per-rate rows are in the tables "
      "below); `*` marks a rate the peer did not sustain (it skipped publish ops or lost messages), where "
      "its figure is for what it managed to deliver. As the offered rate grows every server spends "
      "less per delivery: fan-outs overlap, several messages wait for the same socket and leave in one "
      "write (compare the floor's *16 messages in one write* column). The floor is `bench/floor`'s "
      f"single {(floor.get('plain_row') or {}).get('size', 110)}-byte `write()` to one of "
      f"{(floor.get('plain_row') or {}).get('pairs', 8000):,} loopback sockets, as the issue defines it; with a "
      "reader blocked in epoll (as the load generator's clients are at low rates) a send also pays "
      "for waking it. (c) compares total CPU over all deliveries of the burst runs."
      + (" With several runs a rate, the (a) and (b) figures and verdicts here are the medians over the "
         "runs (a rate counts as not sustained, `*`, when most of its runs were not); `[k/n]` after a rate: "
         "in k of its n runs, the hub's and the peer's runs paired by round, the target held, and the line "
         "under a verdict adds these up over the rates (*rate-runs*)." if max(nr.values()) > 1 else ""))
    w("")
    if why:
        w("### Why the missed targets are missed")
        w("")
        for label, t in why:
            w(f"- **{label}**: {t}")
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
    w("- **Evidence columns** of the rate tables: *kernel share* is the server's stime over utime+stime; "
      "*load gen CPU* the load generator's CPU over the phase in % of one CPU (near 100%, latency is "
      "the client's as much as the server's); *others on CPU 0 / 1* what processes outside the "
      "benchmark used of the server's and the load generator's CPU meanwhile (`/proc/stat` busy time "
      "minus the benchmark's own), since other work shares this machine.")
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
    wk = floor.get("wake_row")
    if wk:
        w("The wake-up alone (`bench/floor --wake`): one 1-byte `sendto()` on an AF_UNIX datagram socket "
          "to a thread asleep in `epoll_wait()`, what a `Realtime\\broadcast()` pays when it wakes an idle "
          "hub thread itself (`broker/pool.c`); 2 ms between sends so the receiver is asleep every time; "
          f"median (p90) wall-clock time of the call over {wk['iters']} sends, sender on CPU 0:")
        w("")
        w(table(["receiver", "µs per sendto() (p90)", "sender CPU µs"],
                [["nobody waiting (the sender reads it back)", f"{wk['nowaiter_ns'] / 1000:.1f} ({wk['nowaiter_p90_ns'] / 1000:.1f})",
                  f"{wk['nowaiter_cpu_ns'] / 1000:.1f}"],
                 ["a thread asleep in epoll on the same CPU", f"{wk['same_cpu_ns'] / 1000:.1f} ({wk['same_cpu_p90_ns'] / 1000:.1f})",
                  f"{wk['same_cpu_cpu_ns'] / 1000:.1f}"],
                 ["a thread asleep in epoll on the other CPU", f"{wk['other_cpu_ns'] / 1000:.1f} ({wk['other_cpu_p90_ns'] / 1000:.1f})",
                  f"{wk['other_cpu_cpu_ns'] / 1000:.1f}"]]))
        w("")
    profs = {s2: profile(a.run_dir, s2) for s2 in servers}
    profs = {k: v for k, v in profs.items() if v}
    if profs:
        w("### Where a low-rate fan-out's CPU goes")
        w("")
        prate = next((r["rate"] for r in by(rows, workload="p") if "rate" in r), None)
        w(f"`perf record -g` (cpu-clock, 999 Hz) attached to the server during (a) at "
          f"{prate:g}/s (run again for this, apart from the measured runs; `bench/run.sh` workload `p`). "
          "Shares of the server's samples; *waking readers* is `sock_def_readable` with what it calls "
          "(waking the load generator's worker blocked in epoll), part of *sending*; the *syscall layer* is "
          "the self time of the functions between the system call and the socket (`vfs_write`, "
          "`fdget_pos`, `sock_write_iter` for `write()`/`writev()`; `__sys_sendto`, `__sys_sendmsg`, "
          "`fdget` for `send()`/`sendto()`/`sendmsg()`, which the hub and uWS use).")
        w("")
        prows = []
        for s2, pr in profs.items():
            pr_row = next((r for r in by(rows, workload="p", server=s2) if "rate" in r), None)
            prows.append([LABEL[s2], pr["samples"], f"{pr['kernel']:.1f}%" if pr["kernel"] is not None else "–",
                          f"{pr['sendmsg']:.1f}%" if pr["sendmsg"] is not None else "–",
                          f"{pr['wake']:.1f}%" if pr["wake"] is not None else "–",
                          f"{pr['syscall']:.1f}%",
                          f"{100 - pr['kernel']:.1f}%" if pr["kernel"] is not None else "–",
                          f"{pr_row['cpu_us_per_delivery']:.2f}" if pr_row else "–",
                          fmt(pr_row["lat_p99_ms"]) if pr_row else "–"])
        w(table(["server", "samples", "kernel", "sending (tcp_sendmsg)", "waking readers (sock_def_readable)",
                 "syscall layer above the socket (self)", "user space", "µs/delivery in this run",
                 "p99 ms in this run"], prows))
        w("")

    # ---- workloads ----
    w("## (a) 10k subscribers on one channel, rate sweep")
    w("")
    w("Offered deliveries/s = offered ops/s × subscribers. The load generator's single CPU handles "
      "about 130-150k deliveries/s when each socket read holds one message (its own CPU is about "
      "6-8 µs per delivery, like the servers'), so above that the latency figures are the client's "
      "queueing as much as the server's; server CPU per delivery stays meaningful.")
    w("")
    w(pubsub_table(agg, rows, "a", servers, pinned=pinned))
    if rounds_note(agg, "a"):
        w("")
        w(rounds_note(agg, "a"))
    w("")
    w("## (b) 10k clients over 1k channels")
    w("")
    w("One op publishes one message to every one of the 1,000 channels (10 subscribers each), so an op "
      "is 10,000 deliveries; offered ops/s × 10k = offered deliveries/s.")
    w("")
    w(pubsub_table(agg, rows, "b", servers, pinned=pinned))
    if rounds_note(agg, "b"):
        w("")
        w(rounds_note(agg, "b"))
    w("")
    w("## (c) bursts: 100 messages back to back to 1k subscribers")
    w("")
    w("One op is 100 messages on one channel in one request (nchan: 100 pipelined requests). "
      "Latency is from the op's timestamp, so it includes the whole burst.")
    w("")
    w(pubsub_table(agg, rows, "c", servers, show_php=True, pinned=pinned))
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
        elif v in ("request-single", "request-single-unpinned", "ref-single", "ref-single-unpinned") \
                and isinstance(r.get("resp"), dict) and r["resp"].get("calls"):
            ns = r["resp"]["ns"] / r["resp"]["calls"]
            med = r["resp"].get("median_ns")
            what = ("in a request, one call per request" if v.startswith("request") else
                    "reference: `json_encode()` of the payload in `broadcast()`'s place, one call per request "
                    "(`pub.php?ref=1`)")
            frows.append([f"{what} ({r['resp']['calls']} requests; "
                          + ("`php -S` not pinned" if v.endswith("unpinned") else "`php -S` pinned to CPU 0")
                          + (f"; median {med / 1000:.1f} µs" if med else "") + ")",
                          f"{ns:.0f}", f"{1e9 / ns:,.0f}"])
        elif v in ("lone", "lone-unpinned") and r.get("samples"):
            st = lone_stats(r)
            frows.append([f"`bench/app/lone.php` ({len(r['samples'])} requests, "
                          + ("pinned" if v == "lone" else "not pinned")
                          + "), medians: the request's first call / a call 2 ms later / "
                          "the call right after that",
                          f"{st['first']:.0f} / {st['idle']:.0f} / {st['next']:.0f}", ""])
        elif v == "cli-segment" and "ns_per_call_median" in r:
            http = next((x for x in by(rows, workload="f", variant="cli-remote") if "ns_per_call_median" in x), None)
            ratio = f"; {http['ns_per_call_median'] / r['ns_per_call_median']:,.0f}× faster than `POST /publish`" if http else ""
            frows.append([f"CLI without a hub, through the server's shared memory segment (`publish_path` "
                          f"{r.get('path')}), loop of {r['calls']:,}, client on CPU 1; runs {r['ns_per_call_runs']} ns"
                          f"{ratio} (also `bench/segment_publish.sh`)",
                          f"{r['ns_per_call_median']:.0f}", f"{r['calls_per_s']:,}"])
        elif v == "cli-remote" and "ns_per_call_median" in r:
            frows.append([f"CLI without a hub (a queue worker): each call a `POST /publish` to the `php -S` "
                          f"server above over one kept-alive connection, loop of {r['calls']:,}, client on CPU 1; "
                          f"runs {r['ns_per_call_runs']} ns",
                          f"{r['ns_per_call_median']:.0f}", f"{r['calls_per_s']:,}"])
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
      "thread and the hub thread share CPU 0 when pinned. *One call per request*: 200 sequential requests "
      "of `pub.php?count=1`, so the call timed is the request's first PHP function call; *pub.php?ref=1*, run "
      "right after them on the same server, times `json_encode()` of the same payload in the same place, "
      "the work `broadcast()` starts with, to separate what `broadcast()` costs from the cold start of a "
      "request's first call. In these rows *ns per call* is the mean over the requests (the median is in "
      "the case column).")
    w("")

    w("## (g) The Redis broker path")
    w("")
    gr = g_rows(rows, agg)
    g1 = next((r for r in by(rows, workload="g") if "conns" in r), None)
    w(f"(a)'s fan-out ({g1['conns']:,} subscribers on one channel, 64-byte payloads) with "
      "`realtime.broker=redis`: a private `redis-server` "
      f"{env.get('redis_version', '').split(' ')[0].replace('v=', '') or ''} on a loopback port (no persistence), "
      "started and stopped by `bench/run.sh`. *Redis, 1 hub*: one `php -S` hub, every client on it. "
      "*Redis, 2 hubs*: two `php -S` hubs sharing the Redis (one app, one `realtime.redis_prefix`), "
      "client *g* connected to hub *g* mod 2, so each hub serves half the subscribers; the publish "
      "requests go to the first hub's `pub.php`, whose `Realtime\\broadcast()` sends one `PUBLISH` to "
      "Redis and waits for its reply; Redis hands the message to each hub's subscriber connection and "
      "each hub fans it out to its own clients. *Hubs' CPU* is every `php -S` process (the PHP "
      "request, the hub thread and its Redis connections; per hub in brackets, the publishing hub "
      "first); *redis-server* is sampled apart from the scheduler's nanosecond clock "
      "(`/proc/<pid>/task/*/schedstat`), also as a share of one CPU. Everything on the "
      "server side, Redis included, is pinned to CPU 0 as in (a). The memory broker's figures are "
      "(a)'s hub rows at the same rate, from the same run"
      + (f" (medians over (a)'s {nr['a']} runs)" if nr["a"] > 1 else "") + "." if g1 else "No (g) rows in this run.")
    w("")
    w(g_table(rows, agg, pinned))
    w("")
    if gr:
        w(g_summary(gr, rows))
        w("")

    w("## Plot")
    w("")
    err = gnuplot(rows, agg, servers, floor, png, os.path.join(a.run_dir, "plot"))
    if err:
        w(err)
    else:
        w(f"![latency and server CPU against throughput, burst CPU and idle memory, against the peers]"
          f"({os.path.relpath(png, out_dir)})")
    w("")
    w("## Reproduce")
    w("")
    w("```")
    w("bash bench/run.sh            # everything, about 30 minutes ((a) and (b) 3 times each); writes this file")
    w("bash bench/run.sh --repeats 5   # (a) and (b) 5 times per server, in interleaved rounds")
    w("bash bench/run.sh --quick    # smoke test, under 3 minutes; report in bench/results/<date>-quick/")
    w("bash bench/run.sh --servers hub,uws --workloads a,floor   # a subset")
    w("bash bench/run.sh --servers hub --workloads g             # the Redis broker path alone, about 1.5 minutes")
    w("```")
    w("")
    # Sections written by hand (other scripts' figures) follow KEEP_MARKER in
    # the old file: a rerun carries them over.
    try:
        with open(a.out) as f:
            old = f.read()
    except OSError:
        old = ""
    if KEEP_MARKER in old:
        L.append(old[old.index(KEEP_MARKER):].rstrip("\n"))
        L.append("")
    with open(a.out, "w") as f:
        f.write("\n".join(L))
    print(f"report: wrote {a.out}" + ("" if err else f" and {png}"))


KEEP_MARKER = "<!-- bench/run.sh keeps everything below this line -->"


if __name__ == "__main__":
    main()
