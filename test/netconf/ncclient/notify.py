"""Notifications (RFC 5277): a live subscription receives compute-tombstoned (the TS side
triggers it once this script prints "subscribed"), the session still answers rpcs (interleave),
then replay subscriptions, one per {"start", "stop"?} of the JSON list read from stdin, each
receive the logged notifications of their window, replayComplete, and notificationComplete when
they have a stopTime.

argv: port. Prints one JSON object per step.
"""
import json
import sys

from lxml import etree

from common import CAR_NS, attempt, cars, connect, emit, local

NOTIFICATION_NS = 'urn:ietf:params:xml:ns:netconf:notification:1.0'


def notification(n):
    """{'eventTime', 'event': '{ns}name', 'leaves': {...}, 'xml'}; None when none came."""
    if n is None:
        return None
    root = etree.fromstring(n.notification_xml.encode())
    event = [e for e in root if e.tag != '{%s}eventTime' % NOTIFICATION_NS]
    return {
        'eventTime': root.findtext('{%s}eventTime' % NOTIFICATION_NS),
        'event': event[0].tag if event else None,
        'leaves': {local(leaf.tag): leaf.text for leaf in event[0]} if event else {},
        'xml': n.notification_xml,
    }


with connect() as live:
    emit({'step': 'subscribe', **attempt(lambda: live.create_subscription())})
    emit({'step': 'subscribed'})
    emit({'step': 'live', 'notification': notification(live.take_notification(block=True, timeout=10))})
    rest = live.get_config(source='running', filter=('subtree', '<cars xmlns="%s"/>' % CAR_NS))
    emit({'step': 'rpc on a subscribed session', 'ok': rest.ok, 'cars': len(cars(rest))})
    emit({'step': 'second subscription', **attempt(lambda: live.create_subscription())})

    for i, window in enumerate(json.loads(sys.stdin.readline())):
        with connect() as replay:
            r = attempt(lambda: replay.create_subscription(start_time=window['start'], stop_time=window.get('stop')))
            got = []
            while 'error' not in r and len(got) < 20:
                n = notification(replay.take_notification(block=True, timeout=10))
                got.append(n)
                if n is None or n['event'].endswith('}notificationComplete') or (n['event'].endswith('}replayComplete') and 'stop' not in window):
                    break
            emit({'step': 'replay %d' % i, **window, **r, 'notifications': got})
