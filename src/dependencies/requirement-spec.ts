// Which dependency strings reach pip. pip reads its argv as options as well as requirements, and
// a requirement may name a URL or a local path: we accept only name-based requirement specs
// (PEP 508 without direct references), so a dependency list can never become a pip option, a
// requirements file, another index or a file of this machine.

export const MAX_DEPENDENCIES = 500;
export const MAX_SPEC_LENGTH = 256;

const NAME = '[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?';
const EXTRAS = `\\[${NAME}(?:,${NAME})*\\]`;
const ONE_VERSION = '(?:===|==|!=|<=|>=|~=|<|>)[A-Za-z0-9.*+!_-]+';
const VERSIONS = `${ONE_VERSION}(?:,${ONE_VERSION})*`;
// an environment marker without spaces, e.g. ;python_version<"3.12"
const MARKER = `;[A-Za-z0-9_.<>=!~'"(),-]+`;
const SPEC = new RegExp(`^${NAME}(?:${EXTRAS})?(?:${VERSIONS}|\\(${VERSIONS}\\))?(?:${MARKER})?$`);
const PROJECT_NAME = new RegExp(`^${NAME}`);

/** Characters a space may stand next to and be dropped: operators, brackets, commas. */
const BESIDE_DROPPABLE_SPACE = /[[\]()<>=!~,]/;

/**
 * A spec with the spaces PEP 508 allows around its operators dropped, before the checks:
 * "pandas >= 2.0, < 3" (the control plane joins a name and a free-text version this way) becomes
 * "pandas>=2.0,<3". A space between two other characters stays, and is refused: "requests flask"
 * must not become the project "requestsflask". The marker after ";" is left as it is.
 */
export function withoutOperatorSpaces(spec: string): string {
  const markerAt = spec.indexOf(';');
  const head = markerAt < 0 ? spec : spec.slice(0, markerAt);
  const dropped = head.replace(/ +/g, (run: string, at: number) => {
    const before = head[at - 1];
    const after = head[at + run.length];
    const droppable = before === undefined || after === undefined || BESIDE_DROPPABLE_SPACE.test(before) || BESIDE_DROPPABLE_SPACE.test(after);
    return droppable ? '' : run;
  });
  return markerAt < 0 ? dropped : dropped + spec.slice(markerAt);
}

/** Why `spec` is refused (a sentence for the caller), or undefined when it may go to pip. */
export function requirementSpecProblem(spec: string): string | undefined {
  if (spec.length === 0) return 'is empty';
  if (spec.startsWith('-')) return `starts with "-": pip options are not accepted in dependencies, only requirement specs such as "requests==2.32.3"`;
  if (/[\s\x00-\x1f\x7f]/.test(spec))
    return 'contains whitespace, a newline or a control character: send one requirement spec per list item, with spaces only around its operators (e.g. "pandas >= 2.0, < 3")';
  if (spec.length > MAX_SPEC_LENGTH) return `is ${spec.length} characters long; at most ${MAX_SPEC_LENGTH} are accepted`;
  if (/[@/\\:]/.test(spec)) return 'is a URL or a path: only projects from the package index are installed (name, extras, versions, e.g. "pandas>=2,<3")';
  if (!SPEC.test(spec)) return 'is not a requirement spec such as "requests", "requests==2.32.3", "uvicorn[standard]>=0.30" or "tomli;python_version<\\"3.11\\""';
  return undefined;
}

/** The PEP 503 normalized form of a project name: how pip and indexes compare names. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The normalized project a valid spec asks for ("Flask[async]>=3" -> "flask"). */
export function requestedProject(spec: string): string {
  return normalizeProjectName(PROJECT_NAME.exec(spec)?.[0] ?? spec);
}
