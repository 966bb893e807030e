"""XPath filters (RFC 6241 section 8.9, :xpath:1.0) as ncclient sends them: `//`, predicates on
non-key leaves, and/or, `..`, names without prefixes, on <get-config> and <get>; and the
rpc-errors of expressions the server cannot use.

argv: port. The cars xp-1..xp-3 are put in running by the test. Prints one JSON object per step.
"""
from lxml import etree

from common import CAR_NS, MONITORING_NS, cars, connect, emit, error
from ncclient.operations.rpc import RPCError

C = {'c': CAR_NS}


def get_config(select, namespaces=C):
    return m.get_config(source='running', filter=('xpath', (namespaces, select) if namespaces else select))


with connect() as m:
    emit({'step': 'descendant', 'cars': cars(get_config("//c:car-entry[starts-with(c:id, 'xp-')]/c:model"))})
    emit({'step': 'non-key leaf', 'cars': cars(get_config("//c:car-entry[c:manufacturer='XP-works']"))})
    emit({
        'step': 'and/or',
        'cars': cars(get_config("/c:cars/c:car-entry[starts-with(c:id, 'xp-') and (c:year < 2002 or c:model='Gamma')]")),
    })
    emit({'step': 'parent', 'cars': cars(get_config("//c:year[. = 2002 and starts-with(../c:id, 'xp-')]/.."))})
    emit({'step': 'without prefixes', 'cars': cars(get_config("//car-entry[manufacturer='XP-works']/year", None))})

    mine = m.get(filter=('xpath', ({'m': MONITORING_NS}, "//m:session[m:session-id='%s']/m:username" % m.session_id)))
    root = etree.fromstring(mine.xml.encode())
    data = root.find('{urn:ietf:params:xml:ns:netconf:base:1.0}data')
    emit({
        'step': 'get descendant',
        'top': [etree.QName(e).localname for e in data],
        'sessions': [{etree.QName(leaf).localname: leaf.text for leaf in s} for s in root.iter('{%s}session' % MONITORING_NS)],
    })

    for name, select in [
        ('syntax error', '/c:cars/c:car-entry['),
        ('not a node-set', 'count(//c:car-entry)'),
        ('undeclared prefix', '/zz:cars'),
    ]:
        try:
            get_config(select)
            emit({'step': name, 'ok': True})
        except RPCError as e:
            emit({'step': name, 'error': error(e)})
    emit({'step': 'after the errors', 'cars': cars(get_config("/c:cars/c:car-entry[c:id='xp-1']/c:id"))})
