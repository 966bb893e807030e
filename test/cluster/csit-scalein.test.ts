/**
 * The CSIT scale-in suite, unchanged, against a 3-instance cluster on one etcd, its calls spread
 * over the instances in turn (test/csit/lib/env.ts starts the cluster when SEXTANT_CSIT_CLUSTER
 * is set; the suite's Session rotates over the instances' URLs).
 */
process.env.SEXTANT_CSIT_CLUSTER = '3';
await import('../csit/scalein.test.ts');
