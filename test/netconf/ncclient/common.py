"""Shared helpers for the ncclient scripts driven by test/netconf/ncclient.test.ts.

Each script takes the NETCONF SSH port as its first argument, talks to the server with the real
ncclient and prints its findings as JSON (one object per line) on stdout; the TypeScript test
asserts on them. Run with /usr/bin/python3 (Debian's python3-ncclient).
"""
import json
import sys

import ncclient.transport.ssh

# ncclient polls the SSH channel every TICK seconds (0.1 by default): far too slow for tests.
ncclient.transport.ssh.TICK = 0.001

from lxml import etree  # noqa: E402
from ncclient import manager  # noqa: E402
from ncclient.operations.rpc import RPCError  # noqa: E402
from ncclient.transport.session import NetconfBase  # noqa: E402

CAR_NS = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:car'
NC_NS = 'urn:ietf:params:xml:ns:netconf:base:1.0'
MONITORING_NS = 'urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring'
SCALEIN_NS = 'urn:opendaylight:netvirt:scalein-api'

PORT = int(sys.argv[1])


def connect():
    return manager.connect(
        host='127.0.0.1',
        port=PORT,
        username='admin',
        password='admin',
        hostkey_verify=False,
        allow_agent=False,
        look_for_keys=False,
        # Generous: on a loaded 2-core machine a reply can take seconds; a real hang still fails.
        timeout=30,
    )


def framing(m):
    """'base:1.1' when ncclient chose chunked framing, 'base:1.0' for end-of-message framing."""
    return 'base:1.1' if m._session._base == NetconfBase.BASE_11 else 'base:1.0'


def local(tag):
    return etree.QName(tag).localname


def error(e):
    """An RPCError as a dict, error-info as {child name: text}."""
    info = {}
    raw = e.xml
    if raw is not None:
        for el in raw.iter('{%s}error-info' % NC_NS):
            for child in el:
                info[local(child.tag)] = (child.text or '').strip()
    return {
        'type': e.type,
        'tag': e.tag,
        'severity': e.severity,
        'app_tag': e.app_tag,
        'path': e.path,
        'message': e.message,
        'info': info,
    }


def attempt(fn):
    """Runs one operation: {'ok': True, 'xml': reply} or {'error': {...}} for an rpc-error."""
    try:
        reply = fn()
        return {'ok': bool(getattr(reply, 'ok', True)), 'xml': getattr(reply, 'xml', None)}
    except RPCError as e:
        return {'error': error(e)}


def cars(reply):
    """The car-entry list of a get/get-config reply as dicts of leaf name -> text."""
    root = etree.fromstring(reply.xml.encode()) if hasattr(reply, 'xml') else reply
    out = []
    for entry in root.iter('{%s}car-entry' % CAR_NS):
        out.append({local(leaf.tag): leaf.text for leaf in entry})
    return out


def car_config(*entries, operation=None):
    """A <config> holding car entries (dicts of leaf -> value); `operation` on each car-entry."""
    op = ' xmlns:nc="%s" nc:operation="%s"' % (NC_NS, operation) if operation else ''
    body = ''.join(
        '<car-entry%s>%s</car-entry>' % (op, ''.join('<%s>%s</%s>' % (k, v, k) for k, v in e.items()))
        for e in entries
    )
    return '<config xmlns="%s"><cars xmlns="%s">%s</cars></config>' % (NC_NS, CAR_NS, body)


def emit(obj):
    print(json.dumps(obj), flush=True)
