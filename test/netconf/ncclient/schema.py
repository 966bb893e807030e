"""get-schema (RFC 6022 section 3.1): a module's YANG text, by name and with its revision; unknown
identifiers and revisions are rpc-errors.

argv: port. Prints one JSON object per step.
"""
from common import RPCError, attempt, connect, emit, error

with connect() as m:
    for step, args in [
        ('car', ('car',)),
        ('car at its revision', ('car', '2014-08-18')),
        ('car in yang format', ('car', None, 'yang')),
        ('unknown module', ('no-such-module',)),
        ('car at another revision', ('car', '1999-01-01')),
    ]:
        try:
            reply = m.get_schema(*args)
            emit({'step': step, 'ok': reply.ok, 'data': reply.data})
        except RPCError as e:
            emit({'step': step, 'error': error(e)})
