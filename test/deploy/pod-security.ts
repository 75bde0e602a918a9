// The Pod Security Standards' "restricted" level (which includes "baseline"), as Pod Security
// Admission checks a pod spec, so a manifest that a restricted namespace would reject fails here
// first. One exception follows the standard's newer policy versions (v1.35+): procMount Unmasked is
// allowed for a pod with hostUsers: false, which is what our executor needs (docs/deployment.md).
import type { KubernetesObject } from './kubernetes-manifests.js';

// Manifests are free-form YAML: fields are looked up by name, checked by value.
type Fields = Record<string, any>;

const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const SECCOMP_TYPES = new Set(['RuntimeDefault', 'Localhost']);

/** The pod spec inside a workload object (Pod, Deployment, Job, CronJob, ...), or null for other kinds. */
export function podSpecOf(object: KubernetesObject): { spec: Fields; annotations: Record<string, string> } | null {
  const o = object as Fields;
  if (object.kind === 'Pod') return { spec: o.spec ?? {}, annotations: o.metadata?.annotations ?? {} };
  const template = object.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template : o.spec?.template;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'].includes(object.kind)) {
    return { spec: template?.spec ?? {}, annotations: template?.metadata?.annotations ?? {} };
  }
  return null;
}

export function allContainers(spec: Fields): Fields[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

/** What keeps the pod spec out of a namespace enforcing "restricted", [] when nothing does. */
export function restrictedViolations(spec: Fields): string[] {
  const problems: string[] = [];
  const pod: Fields = spec.securityContext ?? {};
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[field] === true) problems.push(`${field}: true`);
  if (pod.windowsOptions?.hostProcess === true) problems.push('securityContext.windowsOptions.hostProcess: true');
  for (const volume of spec.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (!type || !RESTRICTED_VOLUME_TYPES.has(type)) problems.push(`volume ${volume.name}: type ${type} is not allowed`);
  }
  for (const sysctl of pod.sysctls ?? []) if (!SAFE_SYSCTLS.has(sysctl.name)) problems.push(`sysctl ${sysctl.name} is not a safe sysctl`);
  problems.push(...contextProblems('securityContext', pod));
  if (pod.runAsUser === 0) problems.push('securityContext.runAsUser: 0');

  for (const container of allContainers(spec)) {
    const at = `container ${container.name}`;
    const context: Fields = container.securityContext ?? {};
    problems.push(...contextProblems(`${at} securityContext`, context));
    if (context.privileged === true) problems.push(`${at}: privileged`);
    if (context.windowsOptions?.hostProcess === true) problems.push(`${at}: windowsOptions.hostProcess`);
    if (context.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation must be false`);
    if (context.runAsUser === 0) problems.push(`${at}: runAsUser 0`);
    const runAsNonRoot = context.runAsNonRoot ?? pod.runAsNonRoot;
    if (runAsNonRoot !== true) problems.push(`${at}: runAsNonRoot must be true (pod or container)`);
    const seccomp = context.seccompProfile?.type ?? pod.seccompProfile?.type;
    if (!SECCOMP_TYPES.has(seccomp)) problems.push(`${at}: seccompProfile must be RuntimeDefault or Localhost (is ${seccomp ?? 'unset'})`);
    if (!(context.capabilities?.drop ?? []).includes('ALL')) problems.push(`${at}: capabilities.drop must include ALL`);
    for (const added of context.capabilities?.add ?? []) if (added !== 'NET_BIND_SERVICE') problems.push(`${at}: capability ${added} added`);
    const procMount = context.procMount ?? 'Default';
    if (procMount !== 'Default' && spec.hostUsers !== false) problems.push(`${at}: procMount ${procMount} needs hostUsers: false`);
    for (const port of container.ports ?? []) if (port.hostPort) problems.push(`${at}: hostPort ${port.hostPort}`);
  }
  return problems;
}

/** Rules that apply alike to the pod's and each container's securityContext. */
function contextProblems(at: string, context: Fields): string[] {
  const problems: string[] = [];
  if (context.seccompProfile?.type === 'Unconfined') problems.push(`${at}: seccompProfile Unconfined`);
  if (context.appArmorProfile?.type === 'Unconfined') problems.push(`${at}: appArmorProfile Unconfined`);
  const selinux = context.seLinuxOptions;
  if (selinux && (!SELINUX_TYPES.has(selinux.type ?? '') || selinux.user || selinux.role)) problems.push(`${at}: seLinuxOptions not allowed`);
  return problems;
}
