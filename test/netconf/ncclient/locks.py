"""Locks (RFC 6241 7.5/7.6) between sessions: a lock refuses another session's edits with
lock-denied naming the holder, unlock lets them through, and a session's end releases its locks
(close-session, and a transport dropped without one).

argv: port. Prints one JSON object per step.
"""
import time

from common import attempt, car_config, connect, emit

edit = lambda m, target, car_id: attempt(lambda: m.edit_config(target=target, config=car_config({'id': car_id, 'model': 'lock test'})))

a = connect()
b = connect()
emit({'step': 'sessions', 'a': a.session_id, 'b': b.session_id})

emit({'step': 'A locks running', **attempt(lambda: a.lock('running'))})
emit({'step': 'B edits running', **edit(b, 'running', 'lock-b-1')})
emit({'step': 'B locks running', **attempt(lambda: b.lock('running'))})
emit({'step': 'B unlocks running', **attempt(lambda: b.unlock('running'))})
emit({'step': 'A edits running', **edit(a, 'running', 'lock-a-1')})
emit({'step': 'A unlocks running', **attempt(lambda: a.unlock('running'))})
emit({'step': 'B edits running after unlock', **edit(b, 'running', 'lock-b-2')})

emit({'step': 'A locks candidate', **attempt(lambda: a.lock('candidate'))})
emit({'step': 'B edits candidate', **edit(b, 'candidate', 'lock-b-3')})
emit({'step': 'B commits', **attempt(lambda: b.commit())})

# A ends without unlocking: close-session releases both of its locks.
emit({'step': 'A locks running again', **attempt(lambda: a.lock('running'))})
emit({'step': 'A closes', **attempt(lambda: a.close_session())})
emit({'step': 'B locks running after A closed', **attempt(lambda: b.lock('running'))})
emit({'step': 'B unlocks running (A)', **attempt(lambda: b.unlock('running'))})
emit({'step': 'B locks candidate after A closed', **attempt(lambda: b.lock('candidate'))})
emit({'step': 'B unlocks candidate', **attempt(lambda: b.unlock('candidate'))})

# C locks and its SSH connection is dropped without close-session: the server notices the
# transport's end and releases the lock.
c = connect()
emit({'step': 'C locks running', 'c': c.session_id, **attempt(lambda: c.lock('running'))})
emit({'step': 'B locks running while C holds it', **attempt(lambda: b.lock('running'))})
c._session._transport.close()
deadline = time.time() + 5
tries = 0
while True:
    tries += 1
    r = attempt(lambda: b.lock('running'))
    if 'error' not in r or time.time() > deadline:
        break
    time.sleep(0.02)
emit({'step': 'B locks running after C dropped', 'tries': tries, **r})
emit({'step': 'B unlocks running (C)', **attempt(lambda: b.unlock('running'))})
b.close_session()
