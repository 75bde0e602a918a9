// Misspelt or misplaced fields. The OpenAPI schemas accept properties they do not define (the
// API server drops or warns about them), so `runAsNonroot: true` would pass schemaErrors while
// meaning nothing. kubernetes-models also ships the schemas as TypeScript types, and TypeScript
// rejects unknown properties in an object literal: each object is type-checked as one, in memory.
import path from 'node:path';
import ts from 'typescript';
import { K8S_DIR, type KubernetesObject } from './kubernetes-manifests.js';

/** For each object (by index), the fields that its kind does not define. */
export function unknownFieldErrors(objects: KubernetesObject[]): string[][] {
  const files = new Map<string, string>();
  objects.forEach((object, index) => {
    // Lives in deploy/k8s (never written) so that node_modules resolves from there.
    const file = path.join(K8S_DIR, `__object${index}.ts`);
    files.set(file, `import type { I${object.kind} } from 'kubernetes-models/${object.apiVersion}/${object.kind}';\n` + `export const object: I${object.kind} = ${JSON.stringify(object, null, 1)};\n`);
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.getSourceFile = (name, version, ...rest) => {
    const text = files.get(name);
    return text === undefined ? getSourceFile(name, version, ...rest) : ts.createSourceFile(name, text, version);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  return [...files.keys()].map((file) => ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => `${pathOf(d)}${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`));
}

/** Where in the object a diagnostic points: the path of property names down to it. */
function pathOf(diagnostic: ts.Diagnostic): string {
  if (!diagnostic.file || diagnostic.start === undefined) return '';
  const names: string[] = [];
  let node: ts.Node | undefined = findNode(diagnostic.file, diagnostic.start);
  for (; node; node = node.parent) {
    if (ts.isPropertyAssignment(node)) names.unshift(node.name.getText(diagnostic.file).replace(/^"|"$/g, ''));
    else if (ts.isArrayLiteralExpression(node.parent ?? node) && node.parent) names.unshift(String((node.parent as ts.ArrayLiteralExpression).elements.indexOf(node as ts.Expression)));
  }
  return names.length ? `/${names.join('/')}: ` : '';
}

function findNode(file: ts.SourceFile, position: number): ts.Node | undefined {
  let found: ts.Node | undefined;
  const visit = (node: ts.Node): void => {
    if (position >= node.getStart(file) && position < node.getEnd()) {
      found = node;
      ts.forEachChild(node, visit);
    }
  };
  visit(file);
  return found;
}
