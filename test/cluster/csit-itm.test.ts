/**
 * The ITM CSIT suite (genius' Configure_ITM, OF_Tunnels and ITM_Vtep_Auto_Tunnel checks) against
 * three instances sharing one etcd: default-transport-zone is written once by the leader, and
 * itm-state is kept by whichever instance runs the mesh.
 */
process.env.SEXTANT_CSIT_CLUSTER = '3';
await import('../csit/itm.test.ts');
