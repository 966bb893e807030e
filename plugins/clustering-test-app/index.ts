/**
 * OpenDaylight's clustering test app, the part its CSIT drives (controller's
 * opendaylight/md-sal/samples/clustering-test-app): `people:add-person` puts the person into the
 * config people list; `car-purchase:buy-car` records who bought which car
 * (`car-people:car-people/car-person`) and says so with the `carBought` notification. Both are
 * plain datastore writes through the platform; the modules are OpenDaylight's own, served only
 * with `--with-test-models`, and without them this plugin is not started.
 */
import { YangError } from '../../src/errors.ts';
import { definePlugin } from '../../src/plugin/api.ts';
import { encodeKeyValue } from '../../src/yang/path.ts';

const personPath = (id: string) => `/people:people/person=${encodeKeyValue(id)}`;
/** The input leaf a write is keyed by: without it there is no entry to write. */
function key(input: Record<string, unknown>, rpc: string, leaf: string): string {
  const v = input[leaf];
  if (typeof v !== 'string') throw new YangError({ tag: 'missing-element', type: 'application', message: `${rpc} needs ${leaf}`, path: `/${rpc}/input`, info: { 'bad-element': leaf } });
  return v;
}

const carPersonPath = (carId: string, personId: string) => `/car-people:car-people/car-person=${encodeKeyValue(carId)},${encodeKeyValue(personId)}`;

export default definePlugin({
  name: 'clustering-test-app',
  yang: ['car', 'people', 'car-people', 'car-purchase'],
  optional: true,
  provides: ['people', 'car-people', 'car-purchase'],

  rpcs: {
    async 'people:add-person'(input, ctx) {
      // The input is the person grouping itself: it becomes the entry, replacing one of that id.
      const tx = ctx.data.transaction('config');
      tx.put(personPath(key(input, 'people:add-person', 'id')), input);
      await tx.commit();
      return undefined;
    },

    async 'car-purchase:buy-car'(input, ctx) {
      // OpenDaylight routes buy-car by its `person` instance-identifier (registered by add-person)
      // but also serves it globally, so any person may buy: car-people's leaves are no leafrefs.
      const carId = key(input, 'car-purchase:buy-car', 'car-id');
      const personId = key(input, 'car-purchase:buy-car', 'person-id');
      const tx = ctx.data.transaction('config');
      tx.put(carPersonPath(carId, personId), { 'car-id': carId, 'person-id': personId });
      await tx.commit();
      ctx.notifications.emit('car-purchase:carBought', { 'car-id': carId, 'person-id': personId });
      return undefined;
    },
  },
});
