// What our own manifests must say beyond the schema and Pod Security: the executor's probes,
// resources, token, metrics annotations and seccomp profile, and that the objects refer to each
// other correctly (Service, HPA and PDB find the pods; the token's Secret exists).
import type { Manifest } from './kubernetes-manifests.js';
import { allContainers, podSpecOf } from './pod-security.js';

type Fields = Record<string, any>;

/** The image name our workloads use; kustomization.yaml's images: maps it to the real one. */
export const EXECUTOR_IMAGE = 'sandbox-executor';
/** Where docs/deployment.md tells operators to install deploy/seccomp/executor.json on each node. */
export const SECCOMP_LOCALHOST_PROFILE = 'profiles/sandbox-executor.json';
const PROBES = ['startupProbe', 'readinessProbe', 'livenessProbe'];

export function executorProblems(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  const workloads = manifests.flatMap((m) => {
    const pod = podSpecOf(m.object);
    return pod ? [{ ...m, ...pod }] : [];
  });
  if (!workloads.some((w) => allContainers(w.spec).some((c) => isExecutor(c)))) problems.push(`no workload runs the ${EXECUTOR_IMAGE} image`);

  for (const workload of workloads) {
    for (const container of allContainers(workload.spec)) {
      const at = `${workload.where} container ${container.name}`;
      for (const kind of ['requests', 'limits']) {
        for (const resource of ['cpu', 'memory']) {
          if (container.resources?.[kind]?.[resource] === undefined) problems.push(`${at}: resources.${kind}.${resource} is not set`);
        }
      }
      for (const variable of container.env ?? []) {
        if (/TOKEN|SECRET|PASSWORD/.test(variable.name) && variable.value !== undefined) problems.push(`${at}: ${variable.name} is a literal value, not a secretKeyRef`);
      }
      if (isExecutor(container)) problems.push(...executorContainerProblems(at, container, workload, manifests));
    }
  }
  problems.push(...referenceProblems(manifests, workloads));
  return problems;
}

function isExecutor(container: Fields): boolean {
  return container.image === EXECUTOR_IMAGE || String(container.image ?? '').split(':')[0] === EXECUTOR_IMAGE;
}

function executorContainerProblems(at: string, container: Fields, workload: { spec: Fields; annotations: Record<string, string> }, manifests: Manifest[]): string[] {
  const problems: string[] = [];
  const port = listenPort(container);
  const portNames = new Map<string, number>((container.ports ?? []).map((p: Fields) => [p.name, p.containerPort]));
  for (const probe of PROBES) {
    const get = container[probe]?.httpGet;
    if (!get) {
      problems.push(`${at}: no ${probe} with httpGet`);
      continue;
    }
    if (get.path !== '/health') problems.push(`${at}: ${probe} asks ${get.path}, not /health`);
    const probed = typeof get.port === 'string' ? portNames.get(get.port) : get.port;
    if (probed !== port) problems.push(`${at}: ${probe} port ${get.port} is not the executor's port ${port}`);
  }

  const token = (container.env ?? []).find((v: Fields) => v.name === 'INTERNAL_API_TOKEN');
  const ref = token?.valueFrom?.secretKeyRef;
  if (!ref) {
    problems.push(`${at}: INTERNAL_API_TOKEN must come from a Secret (valueFrom.secretKeyRef)`);
  } else {
    const secret = manifests.find((m) => m.object.kind === 'Secret' && m.object.metadata?.name === ref.name)?.object as Fields | undefined;
    if (!secret) problems.push(`${at}: INTERNAL_API_TOKEN refers to Secret ${ref.name}, which deploy/k8s does not define`);
    else if (!(ref.key in (secret.stringData ?? {})) && !(ref.key in (secret.data ?? {}))) problems.push(`${at}: Secret ${ref.name} has no key ${ref.key}`);
  }

  const annotations = workload.annotations;
  if (annotations['prometheus.io/scrape'] !== 'true') problems.push(`${at}: pod annotation prometheus.io/scrape must be "true"`);
  if (annotations['prometheus.io/port'] !== String(port)) problems.push(`${at}: pod annotation prometheus.io/port must be "${port}"`);
  if (annotations['prometheus.io/path'] !== '/metrics') problems.push(`${at}: pod annotation prometheus.io/path must be /metrics`);

  const seccomp = container.securityContext?.seccompProfile ?? workload.spec.securityContext?.seccompProfile;
  if (seccomp?.type !== 'Localhost' || seccomp.localhostProfile !== SECCOMP_LOCALHOST_PROFILE) {
    problems.push(`${at}: seccompProfile must be Localhost ${SECCOMP_LOCALHOST_PROFILE} (runtimes' default profiles block user namespaces; docs/deployment.md)`);
  }
  // Each sandbox mounts a fresh procfs, which the kernel refuses while /proc is masked.
  if (container.securityContext?.procMount !== 'Unmasked') problems.push(`${at}: procMount must be Unmasked (sandboxes mount their own /proc)`);
  if (container.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem must be true`);
  return problems;
}

/** The port the executor listens on: EXECUTOR_PORT, else its default 8080. */
function listenPort(container: Fields): number {
  const configured = (container.env ?? []).find((v: Fields) => v.name === 'EXECUTOR_PORT')?.value;
  return configured === undefined ? 8080 : Number(configured);
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function referenceProblems(manifests: Manifest[], workloads: Array<Manifest & { spec: Fields }>): string[] {
  const problems: string[] = [];
  const podLabels = (w: Manifest) => ((w.object as Fields).spec?.template?.metadata?.labels ?? (w.object as Fields).metadata?.labels) as Record<string, string>;
  for (const { where, object } of manifests) {
    const o = object as Fields;
    if (object.kind === 'Service') {
      const targets = workloads.filter((w) => matches(o.spec?.selector, podLabels(w)));
      if (targets.length === 0) problems.push(`${where}: its selector matches no pod template`);
      for (const port of o.spec?.ports ?? []) {
        const target = port.targetPort ?? port.port;
        const served = targets.some((w) => allContainers(w.spec).some((c) => (c.ports ?? []).some((p: Fields) => p.name === target || p.containerPort === target)));
        if (targets.length > 0 && !served) problems.push(`${where}: targetPort ${target} is no container port of the selected pods`);
      }
    }
    if (object.kind === 'PodDisruptionBudget' && !workloads.some((w) => matches(o.spec?.selector?.matchLabels, podLabels(w)))) {
      problems.push(`${where}: its selector matches no pod template`);
    }
    if (object.kind === 'HorizontalPodAutoscaler') {
      const ref = o.spec?.scaleTargetRef ?? {};
      if (!manifests.some((m) => m.object.kind === ref.kind && m.object.metadata?.name === ref.name && m.object.apiVersion === ref.apiVersion)) {
        problems.push(`${where}: scaleTargetRef ${ref.apiVersion} ${ref.kind}/${ref.name} is not defined in deploy/k8s`);
      }
    }
    const selector = o.spec?.selector?.matchLabels;
    if (podSpecOf(object) && object.kind !== 'Pod' && selector && !matches(selector, podLabels({ where, file: '', object }))) {
      problems.push(`${where}: spec.selector does not match its own pod template's labels`);
    }
  }
  return problems;
}
