"""A YANG rpc through <rpc>: scalein-api:scalein-computes-start, dispatched by ncclient, with
the compute-nodes (cloudscaler-rpc, config) read back by get-config after each call.

argv: port, then JSON: a list of calls, each a list of scalein-node-ids. Prints one JSON object
per call.
"""
import json
import sys

from lxml import etree

from common import SCALEIN_NS, attempt, connect, emit, local

CLOUDSCALER_NS = 'urn:opendaylight:genius:cloudscaler:rpcs'
calls = json.loads(sys.argv[2])


def computes(m):
    reply = m.get_config(source='running', filter=('subtree', '<compute-nodes xmlns="%s"/>' % CLOUDSCALER_NS))
    root = etree.fromstring(reply.xml.encode())
    return {
        e.findtext('{%s}compute-name' % CLOUDSCALER_NS): {local(leaf.tag): leaf.text for leaf in e}
        for e in root.iter('{%s}compute-node' % CLOUDSCALER_NS)
    }


with connect() as m:
    for ids in calls:
        before = computes(m)
        rpc = etree.Element('{%s}scalein-computes-start' % SCALEIN_NS, nsmap={None: SCALEIN_NS})
        for i in ids:
            etree.SubElement(rpc, '{%s}scalein-node-ids' % SCALEIN_NS).text = i
        r = attempt(lambda: m.dispatch(rpc))
        out = []
        if 'xml' in r:
            reply = etree.fromstring(r['xml'].encode())
            out = [{local(leaf.tag): leaf.text for leaf in e} for e in reply.iter('{%s}computes' % SCALEIN_NS)]
        emit({'ids': ids, **r, 'computes': out, 'before': before, 'after': computes(m)})
