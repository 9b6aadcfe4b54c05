// The client agent process moved to the cluster launcher, which starts clients too. Tests keep
// importing it from here under its old name.
export { ClientHandle as ClientProcess, type ClientHandleOptions } from '../../cluster/client-handle.js';
