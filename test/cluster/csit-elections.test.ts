/**
 * The CSIT elections suite, unchanged, against a 3-instance cluster on one etcd, its calls
 * spread over the instances (as test/cluster/csit-scalein.test.ts does for scale-in). Only the
 * leader elects and programs flows; the suite reads them back from whichever instance it asks.
 */
process.env.SEXTANT_CSIT_CLUSTER = '3';
await import('../csit/elections.test.ts');
