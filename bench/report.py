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


def deliveries(r):
    return r.get("received", 0) + r.get("slow_received", 0)


def split_us(r):
    """(user, kernel) µs of server CPU per delivery; (None, None) without stime."""
    dl = deliveries(r)
    if not dl or r.get("server_sys_s") is None:
        return None, None
    return ((r["server_cpu_s"] - r["server_sys_s"]) * 1e6 / dl, r["server_sys_s"] * 1e6 / dl)


def kernel_pct(r):
    if r.get("server_sys_s") is None or not r.get("server_cpu_s"):
        return None
    return 100.0 * r["server_sys_s"] / r["server_cpu_s"]


def loadgen_pct(r):
    """The load generator's CPU over the phase, in % of one CPU."""
    if not r.get("wall_s"):
        return None
    return 100.0 * r.get("client_cpu_s", 0) / r["wall_s"]


def others_pct(r, pinned):
    """CPU used by processes outside the benchmark during the phase: (CPU 0 %, CPU 1 %)
    when the server is pinned to CPU 0 and the load generator to CPU 1."""
    busy, wall = r.get("cpu_busy_s"), r.get("wall_s")
    if not busy or not wall or not pinned or len(busy) < 2:
        return None
    c0 = busy[0] - r.get("server_cpu_s", 0) - r.get("aux_cpu_s", 0)
    c1 = busy[1] - r.get("client_cpu_s", 0)
    return max(0.0, 100.0 * c0 / wall), max(0.0, 100.0 * c1 / wall)


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


def pubsub_table(rows, wl, servers, show_php=False, pinned=True):
    hdr = ["server", "offered ops/s", "achieved ops/s", "expected", "delivered/s", "loss",
           "p50 ms", "p99 ms", "p99.9 ms", "max ms", "server CPU µs/delivery", "CPU-s per 1M",
           "kernel share", "load gen CPU", "others on CPU 0 / 1"]
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
            k, lgp, oth = kernel_pct(r), loadgen_pct(r), others_pct(r, pinned)
            line += [f"{k:.0f}%" if k is not None else "–", f"{lgp:.0f}%" if lgp is not None else "–",
                     f"{oth[0]:.0f}% / {oth[1]:.0f}%" if oth else "–"]
            if show_php:
                line.append(fmt(r.get("php_ns_per_call"), 0) if s == "hub" and r.get("php_calls") else "–")
            out.append(line)
    return table(hdr, out)


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


def g_rows(rows):
    """(label, row, memory-broker (a) row at the same rate) for every phase of (g)."""
    mem = {r["rate"]: r for r in by(rows, workload="a", server="hub") if "rate" in r}
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


def g_table(rows, pinned):
    hdr = ["broker", "offered ops/s", "achieved ops/s", "delivered/s", "loss", "p50 ms", "p99 ms",
           "hubs' CPU µs/delivery", "kernel share", "redis-server CPU µs/delivery (% of one CPU)",
           "total µs/delivery", "memory broker (a): µs/delivery, p50 / p99 ms", "total ÷ memory",
           "broadcast() µs/call (in request)", "others on CPU 0 / 1"]
    out = []
    for label, r, m in g_rows(rows):
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
    trows, why = [], []
    fplain = floor.get("plain")
    freader = floor.get("reader")
    profs = {s2: profile(a.run_dir, s2) for s2 in servers}
    prof_rows = {r["server"]: r for r in by(rows, workload="p") if "rate" in r}

    def us(x):
        return f"{x:.2f} µs"

    def ab_noise():
        """The largest relative difference between (a) and (b) for one server at one rate: both make
        the same number of writes an op, so this is how far two runs of the same thing can differ."""
        out = []
        for srv in ("hub", "uws", "nchan", "ws"):
            A = {r["rate"]: r for r in by(rows, workload="a", server=srv) if "rate" in r}
            B = {r["rate"]: r for r in by(rows, workload="b", server=srv) if "rate" in r}
            for rt in set(A) & set(B):
                if not (sustained(A[rt]) and sustained(B[rt])):
                    continue
                x, y = A[rt]["cpu_us_per_delivery"], B[rt]["cpu_us_per_delivery"]
                if x > 0 and y > 0:
                    out.append((abs(x - y) / min(x, y), srv, rt, x, y))
        return max(out) if out else None

    noise = ab_noise()

    def wake_note():
        """What the profile says about waking readers, for the hub and uWS."""
        ph, pu = profs.get("hub"), profs.get("uws")
        if ph and ph.get("wake") is not None:
            t = f"`perf` puts {ph['wake']:.0f}% of the hub's CPU"
            if pu and pu.get("wake") is not None:
                t += f" (uWS: {pu['wake']:.0f}%)"
            return t + " in `sock_def_readable`, waking the reader"
        return None

    for wl in "ab":
        per = {srv: {r["rate"]: r for r in by(rows, workload=wl, server=srv) if "rate" in r} for srv in servers}
        hub = per.get("hub", {})
        if not hub:
            continue
        subs = next(iter(hub.values()))
        subs_per_op = subs["expected"] / subs["ops_ok"] if subs.get("ops_ok") else None
        for peer, want_ratio, name in (("uws", 1.0, "≤ uWebSockets.js"), ("nchan", 1.3, "≥ 1.3× better than nchan")):
            common = sorted(set(hub) & set(per.get(peer, {})))
            if not common:
                continue
            ratios = [(rt, per[peer][rt]["cpu_us_per_delivery"] / hub[rt]["cpu_us_per_delivery"])
                      for rt in common if hub[rt]["cpu_us_per_delivery"] > 0]
            ok = [rt for rt, q in ratios if q >= want_ratio]
            missed = [rt for rt, q in ratios if q < want_ratio]
            detail = ", ".join(f"{rt:g}/s {per[peer][rt]['cpu_us_per_delivery'] / hub[rt]['cpu_us_per_delivery']:.2f}×"
                               + ("" if sustained(per[peer][rt]) else "*") for rt in common)
            label = f"({wl}) server CPU per delivery {name}"
            trows.append([label,
                          " / ".join(f"{hub[rt]['cpu_us_per_delivery']:.2f}" for rt in common) + " µs",
                          " / ".join(f"{per[peer][rt]['cpu_us_per_delivery']:.2f}" for rt in common) + " µs",
                          f"{LABEL[peer]} ÷ hub: {detail}",
                          verdict(not missed) + f" (met at {len(ok)} of {len(ratios)} rates)"])
            if not missed:
                continue
            splits = [(split_us(hub[rt]), split_us(per[peer][rt])) for rt in missed]
            known = [(hs, ps) for hs, ps in splits if hs[0] is not None and ps[0] is not None]
            gaps = {rt: hub[rt]["cpu_us_per_delivery"] / per[peer][rt]["cpu_us_per_delivery"] for rt in missed}
            pairs = ", ".join(f"{hub[rt]['cpu_us_per_delivery']:.2f} vs {per[peer][rt]['cpu_us_per_delivery']:.2f} µs "
                              f"at {rt:g}/s" for rt in missed)
            if peer == "uws":
                t = f"Hub vs uWS: {pairs}. "
                ks = [k for k in [kernel_pct(hub[rt]) for rt in missed] + [kernel_pct(per[peer][rt]) for rt in missed]
                      if k is not None]
                ph, pu = prof_rows.get("hub"), prof_rows.get("uws")
                pfh, pfu = profs.get("hub"), profs.get("uws")
                if ks:
                    t += (f"Both spend {min(ks):.0f}-{max(ks):.0f}% of their CPU in the kernel on the same path, one "
                          "`write`/`sendto` per delivery"
                          + (f" ({pfh['wake']:.0f}% vs {pfu['wake']:.0f}% of it waking the reader)"
                             if pfh and pfu and pfh.get("wake") is not None and pfu.get("wake") is not None else ""))
                worst = max(gaps.values()) - 1
                if noise and worst <= noise[0]:
                    t += (", and gaps this size are noise here: the same server doing the same writes differed by up "
                          f"to {100 * noise[0]:.0f}% between (a) and (b) ({LABEL[noise[1]]} at {noise[2]:g}/s: "
                          f"{noise[3]:.2f} vs {noise[4]:.2f} µs)"
                          + (f", and the profiling rerun at {ph['rate']:g}/s gave the hub {ph['cpu_us_per_delivery']:.2f} "
                             f"and uWS {pu['cpu_us_per_delivery']:.2f} µs" if ph and pu else "") + ". ")
                elif known:
                    dk = sum(hs[1] - ps[1] for hs, ps in known) / len(known)
                    du = sum(hs[0] - ps[0] for hs, ps in known) / len(known)
                    t += (f"; the gap, larger than this run's noise, is {dk:+.2f} µs kernel and {du:+.2f} µs user time "
                          "(the hub's own code) on average. ")
                else:
                    t += ". "
                if pfh and pfu and ph and pfh["syscall"] - pfu["syscall"] >= 1:
                    t += (f"The one systematic difference `perf` shows: libuv's `write()` path costs {pfh['syscall']:.1f}% "
                          f"of the hub's CPU against {pfu['syscall']:.1f}% for uWS's `sendto()`, about "
                          f"{(pfh['syscall'] - pfu['syscall']) / 100 * ph['cpu_us_per_delivery']:.2f} µs per delivery.")
                why.append((label, t.strip()))
            else:
                t = f"Hub vs nchan: {pairs}. "
                if known:
                    rms = [(rt, per[peer][rt]["cpu_us_per_delivery"] / 1.3 - hs[1]) for rt, (hs, ps) in zip(missed, splits)]
                    t += ("1.3× better means ≤ " + " / ".join(f"{per[peer][rt]['cpu_us_per_delivery'] / 1.3:.2f}" for rt in missed)
                          + " µs, but the hub's kernel time alone, one write per delivery that wakes a waiting reader"
                          + (f" ({freader / 1000:.2f} µs on the floor)" if freader else "") + ", is "
                          + " / ".join(f"{hs[1]:.2f}" for hs, ps in known) + " µs, leaving "
                          + " / ".join("nothing" if r <= 0 else f"{r:.2f} µs" for rt, r in rms)
                          + " for user space, where the hub spends " + " / ".join(f"{hs[0]:.2f}" for hs, ps in known)
                          + " µs (nchan " + " / ".join(f"{ps[0]:.2f}" for hs, ps in known) + ")")
                    near = [rt for rt in missed if 1 / gaps[rt] >= 1.3 * 0.95]
                    t += ("; the miss at " + ", ".join(f"{rt:g}/s ({1 / gaps[rt]:.2f}×)" for rt in near)
                          + " is within noise." if near else ".")
                why.append((label, t))
        # the floor: rates where one fan-out ends well before the next message, so
        # each socket gets one message per write (fan-out time <= half the interval)
        low = [rt for rt in sorted(hub) if hub[rt].get("ops_ok") and rt > 0 and
               hub[rt]["expected"] / hub[rt]["ops_ok"] * hub[rt]["cpu_us_per_delivery"] / 1e6 <= 0.5 / rt]
        if fplain and low:
            q = [hub[rt]["cpu_us_per_delivery"] / (fplain / 1000) for rt in low]
            qr = [hub[rt]["cpu_us_per_delivery"] / (freader / 1000) for rt in low] if freader else []
            label = f"({wl}) within 1.2× of the floor (rates where a fan-out takes ≤ half the interval: one message per write)"
            trows.append([label,
                          " / ".join(f"{hub[rt]['cpu_us_per_delivery']:.2f}" for rt in low) + " µs at "
                          + ", ".join(f"{rt:g}/s" for rt in low),
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
                          + f" µs ({min(ks) / (fplain / 1000):.2f}× that floor)")
                if qr:
                    t += (f", and against the floor with a waiting reader ({freader / 1000:.2f} µs) the hub is at "
                          + ", ".join(f"{x:.2f}×" for x in qr) + ("." if all(x <= 1.2 for x in qr) else ""))
                    if not all(x <= 1.2 for x in qr):
                        ra = {r["rate"]: r for r in by(rows, workload="a", server="hub") if "rate" in r}
                        same = [rt for rt in low if rt in ra] if wl == "b" else []
                        if same and freader:
                            t += ("; the same writes in (a) cost " + " / ".join(f"{ra[rt]['cpu_us_per_delivery']:.2f}" for rt in same)
                                  + " µs (" + ", ".join(f"{ra[rt]['cpu_us_per_delivery'] / (freader / 1000):.2f}×" for rt in same)
                                  + "), so the difference is this run's noise.")
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
    # p99 on (a), at the rates every server sustained
    a_rates = sorted({r["rate"] for r in by(rows, workload="a") if "rate" in r})
    wins, total, detail, skipped, lost = 0, 0, [], [], []
    for rate in a_rates:
        at = [r for r in by(rows, workload="a") if r.get("rate") == rate and "rate" in r]
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
        if not ok:
            lost.append((rate, hub[0], best))
        detail.append(f"{rate:g}/s: {hub[0]['lat_p99_ms']:.1f} vs {best['lat_p99_ms']:.1f} ms "
                      f"({LABEL[best['server']]})")
    if total:
        label = ("(a) p99 latency ≤ every peer's (rates all sustained"
                 + (f"; not {', '.join(skipped)}/s" if skipped else "") + ")")
        trows.append([label, f"≤ at {wins} of {total} rates", "; ".join(detail), "", verdict(wins == total)])
        if lost:
            parts, fan = [], []
            for rate, h, b in lost:
                n_sub = h["expected"] / h["ops_ok"] if h.get("ops_ok") else 0
                parts.append(f"{h['lat_p99_ms']:.1f} vs {b['lat_p99_ms']:.1f} ms ({LABEL[b['server']]}) at {rate:g}/s")
                fan.append(f"hub {n_sub * h['cpu_us_per_delivery'] / 1000:.0f} ms, {LABEL[b['server']]} "
                           f"{n_sub * b['cpu_us_per_delivery'] / 1000:.0f} ms at {rate:g}/s")
            t = (f"Hub vs best peer: {'; '.join(parts)}. At these rates p99 is about the time to write to every "
                 f"subscriber one after the other (subscribers × CPU per delivery: {'; '.join(fan)}), so it follows "
                 "the CPU gap above, which is noise-sized")
            ph, pu = prof_rows.get("hub"), prof_rows.get("uws")
            if ph and pu:
                t += (f"; the profiling rerun at {ph['rate']:g}/s gave {ph['lat_p99_ms']:.1f} ms (hub) and "
                      f"{pu['lat_p99_ms']:.1f} ms (uWS)")
            why.append((label, t + "."))
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
                        "into the ring, every hub slot checked for a wake-up)"
                        + (f", while the CLI, with no workers, hands it straight to its own hub: {cli['ns_per_call_median']:.0f} ns "
                           "a call" if cli else "")
                        + "; the hub thread draining the ring shares CPU 0 with the loop."))
    f_one = [r for r in by(rows, workload="f", variant="request-single") if isinstance(r.get("resp"), dict)
             and r["resp"].get("calls")]
    if f_one:
        ns = f_one[0]["resp"]["ns"] / f_one[0]["resp"]["calls"]
        label = "(f) broadcast() under 1 µs in the request: one call per request"
        trows.append([label, f"{ns:,.0f} ns (mean of {f_one[0]['resp']['calls']} requests)", "1000 ns", "",
                      verdict(ns < 1000)])
        if ns >= 1000:
            wk = floor.get("wake_row")
            lone = {r["variant"]: lone_stats(r) for r in by(rows, workload="f") if r.get("variant") in ("lone", "lone-unpinned") and r.get("samples")}
            unp = next((r for r in by(rows, workload="f", variant="request-single-unpinned")
                        if isinstance(r.get("resp"), dict) and r["resp"].get("calls")), None)
            t = ("A lone `broadcast()` finds the hub thread asleep and must wake it with a datagram "
                 "(`broker/pool.c`)")
            if wk:
                t += (f": `bench/floor --wake` measures that `sendto()` at {wk['other_cpu_ns'] / 1000:.0f} µs "
                      f"(sleeper on the other CPU) / {wk['same_cpu_ns'] / 1000:.0f} µs (same CPU) against "
                      f"{wk['nowaiter_ns'] / 1000:.0f} µs when nobody waits")
            if "lone" in lone:
                st = lone["lone"]
                t += (f", and in `bench/app/lone.php` a lone call 2 ms after the first costs {st['idle'] / 1000:.0f} µs, "
                      f"the call right after it {st['next'] / 1000:.1f} µs; the request's first call "
                      f"({st['first'] / 1000:.0f} µs) adds a per-request cold start that the wake-up does not explain")
            if unp:
                t += f" (`php -S` not pinned: {unp['resp']['ns'] / unp['resp']['calls'] / 1000:.0f} µs)"
            t += (". In a loop the hub is still awake (its wake-up flag is set), so no syscall is made"
                  + (f": {loop_med:.0f} ns a call." if loop_med else "."))
            why.append((label, t))
    gr = g_rows(rows)
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
      "single 110-byte `write()` to one of 8,000 loopback sockets, as the issue defines it; with a "
      "reader blocked in epoll (as the load generator's clients are at low rates) a send also pays "
      "for waking it. (c) compares total CPU over all deliveries of the burst runs.")
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
          "to a thread asleep in `epoll_wait()`, what a lone `Realtime\\broadcast()` does to wake an idle "
          "hub thread (`broker/pool.c`); 2 ms between sends so the receiver is asleep every time; "
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
          "`fdget_pos`, `sock_write_iter` for `write()`/`writev()`, which libuv uses; `__sys_sendto`, "
          "`fdget` for `send()`/`sendto()`, which uWS uses).")
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
    w(pubsub_table(rows, "a", servers, pinned=pinned))
    w("")
    w("## (b) 10k clients over 1k channels")
    w("")
    w("One op publishes one message to every one of the 1,000 channels (10 subscribers each), so an op "
      "is 10,000 deliveries; offered ops/s × 10k = offered deliveries/s.")
    w("")
    w(pubsub_table(rows, "b", servers, pinned=pinned))
    w("")
    w("## (c) bursts: 100 messages back to back to 1k subscribers")
    w("")
    w("One op is 100 messages on one channel in one request (nchan: 100 pipelined requests). "
      "Latency is from the op's timestamp, so it includes the whole burst.")
    w("")
    w(pubsub_table(rows, "c", servers, show_php=True, pinned=pinned))
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
        elif v in ("request-single", "request-single-unpinned") and isinstance(r.get("resp"), dict) \
                and r["resp"].get("calls"):
            ns = r["resp"]["ns"] / r["resp"]["calls"]
            med = r["resp"].get("median_ns")
            frows.append([f"in a request, one call per request ({r['resp']['calls']} requests; "
                          + ("`php -S` pinned to CPU 0" if v == "request-single" else "`php -S` not pinned")
                          + (f"; median {med / 1000:.1f} µs" if med else "") + ")",
                          f"{ns:.0f}", f"{1e9 / ns:,.0f}"])
        elif v in ("lone", "lone-unpinned") and r.get("samples"):
            st = lone_stats(r)
            frows.append([f"`bench/app/lone.php` ({len(r['samples'])} requests, "
                          + ("pinned" if v == "lone" else "not pinned")
                          + "), medians: the request's first call / a lone call after 2 ms idle / "
                          "the call right after it",
                          f"{st['first']:.0f} / {st['idle']:.0f} / {st['next']:.0f}", ""])
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
    gr = g_rows(rows)
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
      "(a)'s hub rows at the same rate, from the same run." if g1 else "No (g) rows in this run.")
    w("")
    w(g_table(rows, pinned))
    w("")
    if gr:
        w(g_summary(gr, rows))
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
    w("bash bench/run.sh            # everything, about 15 minutes; writes this file")
    w("bash bench/run.sh --quick    # smoke test, under 3 minutes; report in bench/results/<date>-quick/")
    w("bash bench/run.sh --servers hub,uws --workloads a,floor   # a subset")
    w("bash bench/run.sh --servers hub --workloads g             # the Redis broker path alone, about 1.5 minutes")
    w("```")
    w("")
    with open(a.out, "w") as f:
        f.write("\n".join(L))
    print(f"report: wrote {a.out}" + ("" if err else f" and {png}"))


if __name__ == "__main__":
    main()
