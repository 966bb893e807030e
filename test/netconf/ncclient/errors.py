"""Bad edits through ncclient (RFC 6241 section 7.2 and appendix A): each gives its rpc-error,
and what was refused is not written.

argv: port. Prints one JSON object per step.
"""
from common import CAR_NS, NC_NS, attempt, car_config, cars, connect, emit

CARS = ('subtree', '<cars xmlns="%s"/>' % CAR_NS)

with connect() as m:
    running = lambda: cars(m.get_config(source='running', filter=CARS))
    candidate = lambda: cars(m.get_config(source='candidate', filter=CARS))
    edit = lambda config, target='running', **kw: attempt(lambda: m.edit_config(target=target, config=config, **kw))

    emit({'step': 'seed', **edit(car_config({'id': 'err-1', 'model': 'Seed', 'year': 2001}))})
    before = running()
    emit({'step': 'before', 'cars': before})

    emit({'step': 'unknown namespace', **edit('<config xmlns="%s"><widgets xmlns="urn:example:nowhere"><widget>1</widget></widgets></config>' % NC_NS)})
    emit({'step': 'unknown element', **edit('<config xmlns="%s"><cars xmlns="%s"><bicycle><id>b</id></bicycle></cars></config>' % (NC_NS, CAR_NS))})
    emit({'step': 'unknown top-level element', **edit('<config xmlns="%s"><trucks xmlns="%s"/></config>' % (NC_NS, CAR_NS))})
    emit({'step': 'create existing', **edit(car_config({'id': 'err-1', 'model': 'Other'}, operation='create'))})
    emit({'step': 'create missing', **edit(car_config({'id': 'err-2', 'model': 'Created'}, operation='create'))})
    emit({'step': 'delete missing', **edit(car_config({'id': 'err-missing'}, operation='delete'))})
    emit({'step': 'remove missing', **edit(car_config({'id': 'err-missing'}, operation='remove'))})
    emit({'step': 'delete existing', **edit(car_config({'id': 'err-2'}, operation='delete'))})
    emit({'step': 'year abc on running', **edit(car_config({'id': 'err-bad', 'year': 'abc'}))})
    emit({'step': 'year abc on candidate', **edit(car_config({'id': 'err-bad', 'year': 'abc'}), 'candidate')})
    emit({'step': 'candidate after the bad edit', 'cars': candidate()})
    emit({
        'step': 'rollback-on-error with one good and one bad entry',
        **edit(car_config({'id': 'err-good', 'year': 1999}, {'id': 'err-bad', 'year': 'abc'}), error_option='rollback-on-error'),
    })
    emit({'step': 'commit with no changes', **attempt(lambda: m.commit())})
    emit({'step': 'after', 'cars': running()})
