"""Filters (RFC 6241 section 6, xpath capability): a subtree filter on ietf-netconf-monitoring
sessions in <get>, a content-match subtree filter and an xpath filter on the car list in
<get-config>, and a content match with a selection leaf.

argv: port, then the id to select. Prints one JSON object per step.
"""
import sys

from lxml import etree

from common import CAR_NS, MONITORING_NS, cars, connect, emit

want = sys.argv[2]

with connect() as m:
    state = m.get(filter=('subtree', '<netconf-state xmlns="%s"><sessions/></netconf-state>' % MONITORING_NS))
    root = etree.fromstring(state.xml.encode())
    data = root.find('{urn:ietf:params:xml:ns:netconf:base:1.0}data')
    emit({
        'step': 'get netconf-state/sessions',
        'self': m.session_id,
        'top': [etree.QName(e).localname for e in data],
        'under netconf-state': [etree.QName(e).localname for e in data[0]] if len(data) else [],
        'session-ids': [e.text for e in root.iter('{%s}session-id' % MONITORING_NS)],
        'usernames': [e.text for e in root.iter('{%s}username' % MONITORING_NS)],
    })

    everything = m.get_config(source='running', filter=('subtree', '<cars xmlns="%s"/>' % CAR_NS))
    emit({'step': 'all cars', 'cars': cars(everything)})

    one = m.get_config(source='running', filter=('subtree', '<cars xmlns="%s"><car-entry><id>%s</id></car-entry></cars>' % (CAR_NS, want)))
    emit({'step': 'subtree content match', 'cars': cars(one)})

    picked = m.get_config(source='running', filter=('subtree', '<cars xmlns="%s"><car-entry><id>%s</id><model/></car-entry></cars>' % (CAR_NS, want)))
    emit({'step': 'subtree content match with a selection leaf', 'cars': cars(picked)})

    xp = m.get_config(source='running', filter=('xpath', ({'c': CAR_NS}, "/c:cars/c:car-entry[c:id='%s']" % want)))
    emit({'step': 'xpath', 'cars': cars(xp)})

    bare = m.get_config(source='running', filter=('xpath', "/cars/car-entry[id='%s']" % want))
    emit({'step': 'xpath without prefixes', 'cars': cars(bare)})

    none = m.get_config(source='running', filter=('subtree', '<cars xmlns="%s"><car-entry><id>no-such-car</id></car-entry></cars>' % CAR_NS))
    emit({'step': 'subtree content match on nothing', 'cars': cars(none), 'xml': none.data_xml})

    mine = m.get(filter=('xpath', ({'m': MONITORING_NS}, "/m:netconf-state/m:sessions/m:session[m:session-id='%s']/m:username" % m.session_id)))
    root = etree.fromstring(mine.xml.encode())
    emit({
        'step': 'get with xpath',
        'sessions': [{etree.QName(leaf).localname: leaf.text for leaf in s} for s in root.iter('{%s}session' % MONITORING_NS)],
    })
