/**
 * The rpc-error wire form (RFC 6241 section 4.3): every field of the platform's error, and
 * error-path as an absolute XPath with key predicates and the namespaces of its prefixes.
 */
import t from 'tap';
import { join } from 'node:path';
import { YangError } from '../../src/errors.ts';
import { rpcErrorXml } from '../../src/northbound/netconf/errors.ts';
import { loadSchema } from '../../src/yang/compiler.ts';

const schema = await loadSchema([join(import.meta.dirname, '../../yang'), join(import.meta.dirname, 'yang')]);
const CAR = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:car';

t.test('all fields of the error are on the wire', async (t) => {
  const xml = rpcErrorXml(new YangError({ tag: 'lock-denied', type: 'protocol', message: 'locked by 3 <yes>', appTag: 'x-app', info: { 'session-id': '3' } }));
  t.equal(
    xml,
    '<rpc-error><error-type>protocol</error-type><error-tag>lock-denied</error-tag><error-severity>error</error-severity>' +
      '<error-app-tag>x-app</error-app-tag><error-message xml:lang="en">locked by 3 &lt;yes&gt;</error-message>' +
      '<error-info><session-id>3</session-id></error-info></rpc-error>',
  );
});

t.test('error-path is an absolute XPath with key predicates and declared prefixes', async (t) => {
  const xml = rpcErrorXml(new YangError({ tag: 'invalid-value', message: 'bad year', path: "/car:cars/car-entry=it's%2Fmine/year" }), schema);
  t.match(xml, `<error-path xmlns:car="${CAR}">/car:cars/car:car-entry[car:id=&quot;it's/mine&quot;]/car:year</error-path>`);
  const unknown = rpcErrorXml(new YangError({ tag: 'unknown-element', message: 'no', path: '/widgets' }), schema);
  t.match(unknown, '<error-path>/widgets</error-path>', 'a path the schema does not know is given as it came');
});
