// Which host uid/gid a sandbox runs as. An unprivileged server can only map its own ids; a root
// server must never hand root to a sandbox, so it uses a dedicated unprivileged uid instead.
export interface HostIdentity {
  uid: number;
  gid: number;
  serverIsRoot: boolean;
}

export function hostIdentity(rootServerUid: number, rootServerGid: number): HostIdentity {
  const serverIsRoot = process.getuid?.() === 0;
  return serverIsRoot ? { uid: rootServerUid, gid: rootServerGid, serverIsRoot } : { uid: process.getuid!(), gid: process.getgid!(), serverIsRoot };
}
