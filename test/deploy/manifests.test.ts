// deploy/k8s checked offline: every object against the Kubernetes OpenAPI schemas, every pod
// against Pod Security "restricted", and the executor's own rules. Each checker is also shown a
// bad object, so a checker that accepts everything fails here instead of passing silently.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { executorProblems, SECCOMP_LOCALHOST_PROFILE } from './executor-rules.js';
import { K8S_DIR, KUSTOMIZATION, manifestFiles, readKustomization, readManifests, schemaErrors, type KubernetesObject, type Manifest } from './kubernetes-manifests.js';
import { podSpecOf, restrictedViolations } from './pod-security.js';
import { unknownFieldErrors } from './unknown-fields.js';

const manifests = readManifests();
const deployment = manifests.find((m) => m.object.kind === 'Deployment');

/** A deep copy of the shipped Deployment with one change, for the negative cases. */
function brokenDeployment(change: (d: any) => void): Manifest {
  assert.ok(deployment, 'deploy/k8s has a Deployment');
  const object = structuredClone(deployment.object) as any;
  change(object);
  return { ...deployment, object };
}
const withDeployment = (replacement: Manifest) => manifests.map((m) => (m === deployment ? replacement : m));
const executorContainer = (d: any) => d.spec.template.spec.containers[0];

describe('deploy/k8s manifests', () => {
  it('kustomization.yaml applies every manifest file, and each resource it names exists', () => {
    const resources = readKustomization().resources ?? [];
    const files = manifestFiles().filter((name) => name !== KUSTOMIZATION);
    assert.deepEqual([...resources].sort(), files, 'kustomization.yaml resources: must list exactly the YAML files beside it');
    for (const resource of resources) assert.ok(existsSync(path.join(K8S_DIR, resource)), resource);
  });

  it('every object is valid against the Kubernetes OpenAPI schemas', async () => {
    assert.ok(manifests.length >= 5, `found only ${manifests.length} objects in ${K8S_DIR}`);
    const problems: string[] = [];
    for (const { where, object } of manifests) for (const problem of await schemaErrors(object)) problems.push(`${where}: ${problem}`);
    assert.deepEqual(problems, []);
  });

  it('no object has a field its kind does not define (a misspelt field would be ignored)', () => {
    const problems = unknownFieldErrors(manifests.map((m) => m.object)).flatMap((errors, i) => errors.map((e) => `${manifests[i]!.where}: ${e}`));
    assert.deepEqual(problems, []);
  });

  it('every pod meets Pod Security "restricted"', () => {
    const workloads = manifests.filter((m) => podSpecOf(m.object));
    assert.ok(workloads.length > 0, 'no workload found');
    const problems = workloads.flatMap((m) => restrictedViolations(podSpecOf(m.object)!.spec).map((p) => `${m.where}: ${p}`));
    assert.deepEqual(problems, []);
  });

  it('the executor: probes on /health, resources, token from the Secret, Prometheus annotations, our seccomp profile', () => {
    assert.deepEqual(executorProblems(manifests), []);
    const seccomp = (deployment!.object as any).spec.template.spec.securityContext.seccompProfile;
    assert.equal(seccomp.localhostProfile, SECCOMP_LOCALHOST_PROFILE);
  });
});

describe('the manifest checks reject bad objects', () => {
  it('schema: wrong types, a missing required field, an unknown kind, a document that is no object', async () => {
    const wrongType = brokenDeployment((d) => {
      executorContainer(d).ports[0].containerPort = '8080';
    });
    assert.match((await schemaErrors(wrongType.object)).join('\n'), /containerPort must be integer/);
    const noContainers = brokenDeployment((d) => {
      delete d.spec.template.spec.containers;
    });
    assert.match((await schemaErrors(noContainers.object)).join('\n'), /must have required property containers/);
    const badEnum = brokenDeployment((d) => {
      executorContainer(d).securityContext.procMount = 'Open';
    });
    assert.match((await schemaErrors(badEnum.object)).join('\n'), /procMount must be equal to one of the allowed values/);
    assert.match((await schemaErrors({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } })).join(), /unknown apiVersion\/kind apps\/v1\/Deploymnet/);
    assert.match((await schemaErrors({ rules: [] } as unknown as KubernetesObject)).join(), /not a Kubernetes object/);
    assert.match((await schemaErrors({ apiVersion: 'v1', kind: 'Service', spec: {} })).join(), /metadata.name is missing/);
  });

  it('unknown fields: a misspelt and a misplaced field are named, with where they are', () => {
    const misspelt = brokenDeployment((d) => {
      executorContainer(d).securityContext.runAsNonroot = true;
    });
    const misplaced = brokenDeployment((d) => {
      d.spec.template.spec.procMount = 'Unmasked';
    });
    const [spelling, placement] = unknownFieldErrors([misspelt.object, misplaced.object]);
    assert.match(spelling!.join('\n'), /^\/spec\/template\/spec\/containers\/0\/securityContext\/runAsNonroot: .*runAsNonroot"?' does not exist/m);
    assert.match(placement!.join('\n'), /^\/spec\/template\/spec\/procMount: .*procMount"?' does not exist/m);
  });

  it('Pod Security: each restricted rule broken once is named', () => {
    const spec = structuredClone(podSpecOf(deployment!.object)!.spec) as any;
    spec.hostUsers = true;
    spec.hostNetwork = true;
    spec.securityContext = { runAsUser: 0 };
    spec.volumes.push({ name: 'host', hostPath: { path: '/' } });
    Object.assign(executorContainer({ spec: { template: { spec } } }).securityContext, {
      allowPrivilegeEscalation: true,
      privileged: true,
      capabilities: { drop: [], add: ['SYS_ADMIN'] },
    });
    const problems = restrictedViolations(spec).join('\n');
    for (const expected of [
      /hostNetwork: true/,
      /securityContext.runAsUser: 0/,
      /volume host: type hostPath/,
      /allowPrivilegeEscalation must be false/,
      /privileged/,
      /runAsNonRoot must be true/,
      /seccompProfile must be RuntimeDefault or Localhost \(is unset\)/,
      /capabilities.drop must include ALL/,
      /capability SYS_ADMIN added/,
      /procMount Unmasked needs hostUsers: false/,
    ])
      assert.match(problems, expected);
  });

  it('executor rules: probe path, resources, literal token, annotations, seccomp type, references', () => {
    const cases: Array<[(d: any) => void, RegExp]> = [
      [
        (d) => {
          executorContainer(d).livenessProbe.httpGet.path = '/';
        },
        /livenessProbe asks \/, not \/health/,
      ],
      [
        (d) => {
          executorContainer(d).readinessProbe.httpGet.port = 9090;
        },
        /readinessProbe port 9090 is not the executor's port 8080/,
      ],
      [
        (d) => {
          delete executorContainer(d).resources.limits.memory;
        },
        /resources.limits.memory is not set/,
      ],
      [
        (d) => {
          executorContainer(d).env.find((v: any) => v.name === 'INTERNAL_API_TOKEN').valueFrom.secretKeyRef.name = 'other';
        },
        /refers to Secret other/,
      ],
      [
        (d) => {
          executorContainer(d).env.find((v: any) => v.name === 'INTERNAL_API_TOKEN').valueFrom = undefined;
        },
        /INTERNAL_API_TOKEN must come from a Secret/,
      ],
      [
        (d) => {
          executorContainer(d).env.push({ name: 'EXECUTOR_API_TOKEN', value: 'literal' });
        },
        /EXECUTOR_API_TOKEN is a literal value/,
      ],
      [
        (d) => {
          delete d.spec.template.metadata.annotations['prometheus.io/scrape'];
        },
        /prometheus.io\/scrape must be "true"/,
      ],
      [
        (d) => {
          d.spec.template.spec.securityContext.seccompProfile = { type: 'RuntimeDefault' };
        },
        /seccompProfile must be Localhost/,
      ],
      [
        (d) => {
          d.spec.template.metadata.labels = { app: 'renamed' };
        },
        /Service\/sandbox-executor: its selector matches no pod template/,
      ],
      [
        (d) => {
          d.metadata.name = 'renamed';
        },
        /scaleTargetRef apps\/v1 Deployment\/sandbox-executor is not defined/,
      ],
    ];
    for (const [change, expected] of cases) assert.match(executorProblems(withDeployment(brokenDeployment(change))).join('\n'), expected);
  });
});
