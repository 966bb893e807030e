"""Rpc parameters written without a namespace, as ncclient users write them: the ubiquitous
`<config xmlns:xc="urn:ietf:params:xml:ns:netconf:base:1.0">` idiom (the base namespace only bound
to the xc prefix for xc:operation, the element itself in no namespace inside ncclient's prefixed
<nc:rpc>) and `<filter type="subtree">` strings, which ncclient passes through unqualified. Then
the same parameters in a foreign namespace, sent with ncclient's dispatch (its own checks refuse to
build them): each an rpc-error, nothing written.

argv: port. Prints one JSON object per step.
"""
from common import CAR_NS, MONITORING_NS, NC_NS, attempt, cars, connect, emit
from ncclient.xml_ import to_ele

FOREIGN = 'urn:example:not-netconf'


def bare_config(body):
    return '<config xmlns:xc="%s">%s</config>' % (NC_NS, body)


def car(id_, op='', **leaves):
    return '<cars xmlns="%s"><car-entry%s><id>%s</id>%s</car-entry></cars>' % (
        CAR_NS, op, id_, ''.join('<%s>%s</%s>' % (k, v, k) for k, v in leaves.items()))


BARE_FILTER = '<filter type="subtree"><cars xmlns="%s"/></filter>' % CAR_NS

with connect() as m:
    # What ncclient puts on the wire, to show the idiom reaches the server as described.
    sent = []
    send = m._session.send
    m._session.send = lambda message: (sent.append(message), send(message))[1]
    emit({'step': 'bare config on candidate', **attempt(lambda: m.edit_config(target='candidate', config=bare_config(car('bare-1', model='Corolla', year=2016))))})
    emit({'step': 'candidate through a bare filter', 'cars': cars(m.get_config(source='candidate', filter=BARE_FILTER))})
    emit({'step': 'commit', **attempt(lambda: m.commit())})
    emit({'step': 'bare config on running', **attempt(lambda: m.edit_config(target='running', config=bare_config(car('bare-2', model='Prius'))))})
    emit({'step': 'bare xc:operation delete', **attempt(lambda: m.edit_config(target='running', config=bare_config(car('bare-1', ' xc:operation="delete"'))))})
    emit({'step': 'sent', 'edits': [x for x in sent if 'edit-config' in x]})
    m._session.send = send
    emit({'step': 'running through a bare filter', 'cars': cars(m.get_config(source='running', filter=BARE_FILTER))})
    sessions = m.get(filter='<filter type="subtree"><netconf-state xmlns="%s"><sessions/></netconf-state></filter>' % MONITORING_NS)
    emit({'step': 'get through a bare filter', 'session_ids': [e.text for e in sessions.data_ele.iter('{%s}session-id' % MONITORING_NS)], 'own': m.session_id})

    def dispatch(xml):
        return attempt(lambda: m.dispatch(to_ele(xml)))

    emit({'step': 'foreign config', **dispatch(
        '<edit-config xmlns="%s"><target><running/></target><config xmlns="%s">%s</config></edit-config>' % (NC_NS, FOREIGN, car('foreign-1')))})
    emit({'step': 'foreign target', **dispatch(
        '<edit-config xmlns="%s"><target xmlns="%s"><running/></target><config>%s</config></edit-config>' % (NC_NS, FOREIGN, car('foreign-2')))})
    emit({'step': 'foreign datastore', **dispatch(
        '<edit-config xmlns="%s"><target><running xmlns="%s"/></target><config>%s</config></edit-config>' % (NC_NS, FOREIGN, car('foreign-3')))})
    emit({'step': 'foreign default-operation', **dispatch(
        '<edit-config xmlns="%s"><target><running/></target><default-operation xmlns="%s">replace</default-operation><config>%s</config></edit-config>' % (NC_NS, FOREIGN, car('foreign-4')))})
    emit({'step': 'foreign source', **dispatch('<get-config xmlns="%s"><source xmlns="%s"><running/></source></get-config>' % (NC_NS, FOREIGN))})
    emit({'step': 'foreign filter', **dispatch(
        '<get-config xmlns="%s"><source><running/></source><filter xmlns="%s" type="subtree"><cars xmlns="%s"/></filter></get-config>' % (NC_NS, FOREIGN, CAR_NS))})
    emit({'step': 'running at the end', 'cars': cars(m.get_config(source='running', filter=BARE_FILTER))})
