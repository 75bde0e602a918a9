// Reads every Kubernetes object in deploy/k8s and checks it against the Kubernetes OpenAPI
// schemas shipped by kubernetes-models (no cluster needed). Every file and every YAML document in
// it is read, so a manifest added later is checked without touching the tests.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const K8S_DIR = fileURLToPath(new URL('../../../deploy/k8s/', import.meta.url));
export const KUSTOMIZATION = 'kustomization.yaml';

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface Manifest {
  /** file:document-index kind/name, for messages */
  where: string;
  file: string;
  object: KubernetesObject;
}

export function manifestFiles(dir = K8S_DIR): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();
}

/** Every document of every file but the kustomization; a document that is no object is an error. */
export function readManifests(dir = K8S_DIR): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of manifestFiles(dir).filter((name) => name !== KUSTOMIZATION)) {
    parseAllDocuments(readFileSync(path.join(dir, file), 'utf8')).forEach((document, index) => {
      if (document.errors.length > 0) throw new Error(`${file} document ${index}: ${document.errors[0]!.message}`);
      const object = document.toJSON() as KubernetesObject | null;
      if (object === null) return; // an empty document (a trailing ---)
      manifests.push({ where: `${file}#${index} ${object.kind}/${object.metadata?.name}`, file, object });
    });
  }
  return manifests;
}

export function readKustomization(dir = K8S_DIR): { resources?: string[]; [field: string]: unknown } {
  const documents = parseAllDocuments(readFileSync(path.join(dir, KUSTOMIZATION), 'utf8'));
  if (documents.length !== 1) throw new Error(`${KUSTOMIZATION}: expected one document, found ${documents.length}`);
  return documents[0]!.toJSON();
}

interface ValidationError {
  instancePath?: string;
  message?: string;
}
type ModelClass = new (data: unknown) => { validate(): void };

/**
 * The schema problems of one object, [] when it is valid. An apiVersion/kind that kubernetes-models
 * does not know (a typo, or a custom resource) is a problem too: name it here rather than skip it.
 */
export async function schemaErrors(object: KubernetesObject): Promise<string[]> {
  if (typeof object?.apiVersion !== 'string' || typeof object.kind !== 'string') {
    return ['not a Kubernetes object (no apiVersion and kind): only manifests belong in deploy/k8s'];
  }
  let Model: ModelClass | undefined;
  try {
    Model = (await import(`kubernetes-models/${object.apiVersion}/${object.kind}`))[object.kind] as ModelClass | undefined;
  } catch {
    // not found: reported below
  }
  if (!Model) return [`unknown apiVersion/kind ${object.apiVersion}/${object.kind} (a typo, or a custom resource that needs its own model package)`];
  const problems: string[] = [];
  if (!object.metadata?.name) problems.push('metadata.name is missing');
  try {
    new Model(object).validate();
  } catch (error) {
    const errors = (error as { errors?: ValidationError[] }).errors;
    if (!errors) throw error;
    problems.push(...errors.map((e) => `${e.instancePath || '/'} ${e.message}`));
  }
  return problems;
}
