#!/usr/bin/python3
"""
The NETCONF client of `npm run bench:netconf` (scripts/bench/netconf.ts): ncclient (Debian's
python3-ncclient 0.6.13; run it with /usr/bin/python3, whose dist-packages hold it) doing
<get-config><source><running/></source></get-config> over SSH, the same way against every server.

  netconf-client.py --port P --username U (--password X | --key FILE) [--host 127.0.0.1]
                    [--sessions S] [--requests N] [--warmup W] [--expect E] [--ns NS] [--nodelay]

S sessions (one process each, so the GIL is not what limits S > 1) connect one at a time, each
getting its first reply before the next connects; once all are connected each does W unrecorded
get-configs, then all wait at a barrier; from there each does N timed get-configs. Prints one JSON
object on stdout: aggregate requests/s over the wall time from the barrier to the last session
done, latencies, and the client's own CPU time per request. Exit 1 (with {"error": ...}) when a
session fails.

Every reply is checked: the first reply of each session is parsed and must hold exactly E
<car-entry> elements (namespace NS); every later reply must name `car-entry` as often as the first,
so a server answering with an error or less data is never measured as fast.
"""
import argparse
import json
import multiprocessing as mp
import socket
import sys
import time
import traceback

import ncclient.transport.ssh as ncssh

# ncclient's transport thread wakes up every TICK seconds to look for something to send: at the
# default 0.1 s every request waits ~100 ms for nothing.
ncssh.TICK = 0.001

from ncclient import manager  # noqa: E402

CAR_NS = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:car'


def connect(a):
    kw = dict(host=a.host, port=a.port, username=a.username, hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=60)
    if a.nodelay:
        # ncclient opens its socket without TCP_NODELAY: its small <rpc> then waits (Nagle) for the
        # ACK of its previous small packet (e.g. an SSH window adjust), which the server may delay.
        s = socket.create_connection((a.host, a.port), timeout=60)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        kw['sock'] = s
    if a.key:
        kw['key_filename'] = a.key
    else:
        kw['password'] = a.password
    return manager.connect(**kw)


def entries(reply, ns):
    return len(reply.data_ele.findall('.//{%s}car-entry' % ns))


def worker(i, a, lock, barrier, out):
    m = None
    try:
        # One session at a time connects and gets its first reply while no other traffic runs:
        # netconfd 2.13 loses an <rpc> that reaches it in the same read as the client's <hello>
        # (seen when it was busy serving other sessions: the first get-config never got a reply).
        with lock:
            t0 = time.monotonic()
            m = connect(a)
            connect_s = time.monotonic() - t0
            time.sleep(0.05)
            first = m.get_config(source='running')
        n = entries(first, a.ns)
        if n != a.expect:
            raise RuntimeError('session %d: first get-config reply holds %d car-entry, expected %d; reply starts %r' % (i, n, a.expect, first.xml[:600]))
        mark = first.xml.count('car-entry')
        size = len(first.xml.encode())

        def check(r, k):
            c = r.xml.count('car-entry')
            if c != mark:
                raise RuntimeError('session %d: reply %d names car-entry %d times, the first %d; reply starts %r' % (i, k, c, mark, r.xml[:600]))

        barrier.wait(timeout=600)  # every session connected
        for k in range(a.warmup):
            check(m.get_config(source='running'), k)
        barrier.wait(timeout=600)  # every session warmed up: the timed part starts
        lat = []
        cpu = time.process_time()  # this session's process: ncclient's transport thread included
        start = time.monotonic()
        for k in range(a.requests):
            t = time.monotonic()
            r = m.get_config(source='running')
            lat.append(time.monotonic() - t)
            check(r, k)
        end = time.monotonic()
        cpu = time.process_time() - cpu
        # The last reply is parsed in full too.
        if entries(r, a.ns) != a.expect:
            raise RuntimeError('session %d: last reply holds %d car-entry' % (i, entries(r, a.ns)))
        out.put({'ok': True, 'session': i, 'start': start, 'end': end, 'lat': lat, 'cpu_s': cpu, 'connect_s': connect_s, 'entries': n, 'reply_bytes': size})
    except Exception as e:  # noqa: BLE001 - reported to the parent, which fails the run
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass
        out.put({'ok': False, 'session': i, 'error': '%s: %s' % (type(e).__name__, e), 'trace': traceback.format_exc()})
    finally:
        if m is not None:
            try:
                m.close_session()
            except Exception:  # noqa: BLE001
                pass


def pct(sorted_xs, p):
    return sorted_xs[min(len(sorted_xs) - 1, int(round(p / 100 * (len(sorted_xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--username', required=True)
    ap.add_argument('--password')
    ap.add_argument('--key')
    ap.add_argument('--sessions', type=int, default=1)
    ap.add_argument('--requests', type=int, default=1000)
    ap.add_argument('--warmup', type=int, default=20)
    ap.add_argument('--expect', type=int, default=1000)
    ap.add_argument('--ns', default=CAR_NS)
    ap.add_argument('--nodelay', action='store_true', help='set TCP_NODELAY on the client socket')
    a = ap.parse_args()
    if not a.key and a.password is None:
        ap.error('--password or --key')

    ctx = mp.get_context('fork')
    lock = ctx.Lock()
    barrier = ctx.Barrier(a.sessions)
    out = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(i, a, lock, barrier, out), daemon=True) for i in range(a.sessions)]
    for p in procs:
        p.start()
    # Every session reports once (a hung request ends with ncclient's timeout).
    results = []
    deadline = time.monotonic() + 3600
    while len(results) < a.sessions:
        try:
            results.append(out.get(timeout=max(1, deadline - time.monotonic())))
        except Exception:  # noqa: BLE001 - queue.Empty
            break
    for p in procs:
        p.join(timeout=10)
        if p.is_alive():
            p.kill()
    # The first cause, not the sessions that only saw the barrier broken because of it.
    bad = sorted((r for r in results if not r['ok']), key=lambda r: r['error'].startswith('BrokenBarrierError'))
    if bad or len(results) < a.sessions:
        err = bad[0] if bad else {'error': 'only %d of %d sessions reported' % (len(results), a.sessions)}
        print(json.dumps({'error': err['error']}))
        if 'trace' in err:
            sys.stderr.write(err['trace'])
        sys.exit(1)

    lat = sorted(x for r in results for x in r['lat'])
    total = len(lat)
    wall = max(r['end'] for r in results) - min(r['start'] for r in results)
    print(json.dumps({
        'sessions': a.sessions,
        'nodelay': a.nodelay,
        'requests_per_session': a.requests,
        'requests': total,
        'seconds': wall,
        'req_per_s': total / wall,
        'mean_ms': sum(lat) / total * 1000,
        'p50_ms': pct(lat, 50) * 1000,
        'p99_ms': pct(lat, 99) * 1000,
        'max_ms': lat[-1] * 1000,
        'client_cpu_ms_per_req': sum(r['cpu_s'] for r in results) / total * 1000,
        'connect_s_max': max(r['connect_s'] for r in results),
        'entries': results[0]['entries'],
        'reply_bytes': results[0]['reply_bytes'],
    }))


if __name__ == '__main__':
    main()
