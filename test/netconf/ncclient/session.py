"""Session basics: the hello (capabilities, session-id, framing), get-config, edit-config on the
candidate then commit, and edit-config straight on running (writable-running).

argv: port. Prints one JSON object per step, each with a "step" name.
"""
from common import CAR_NS, attempt, car_config, cars, connect, emit, framing

CARS = ('subtree', '<cars xmlns="%s"/>' % CAR_NS)

with connect() as m:
    emit({
        'step': 'hello',
        'session_id': m.session_id,
        'capabilities': list(m.server_capabilities),
        'framing': framing(m),
    })

    start = m.get_config(source='running')
    emit({'step': 'running at start', 'xml': start.data_xml, 'cars': cars(start)})

    emit({'step': 'edit candidate', **attempt(lambda: m.edit_config(target='candidate', config=car_config({'id': 'cand-1', 'model': 'Model S', 'year': 2020})))})
    emit({'step': 'running before commit', 'cars': cars(m.get_config(source='running', filter=CARS))})
    emit({'step': 'candidate before commit', 'cars': cars(m.get_config(source='candidate', filter=CARS))})
    emit({'step': 'commit', **attempt(lambda: m.commit())})
    emit({'step': 'running after commit', 'cars': cars(m.get_config(source='running', filter=CARS))})

    emit({'step': 'edit running', **attempt(lambda: m.edit_config(target='running', config=car_config({'id': 'run-1', 'model': 'Beetle', 'manufacturer': 'VW', 'year': 1970})))})
    emit({'step': 'running after edit', 'cars': cars(m.get_config(source='running', filter=CARS))})
    emit({'step': 'candidate follows running', 'cars': cars(m.get_config(source='candidate', filter=CARS))})
