// The HTTP statuses of the domain's errors: the layers below http/ say what went wrong, this
// says how it is answered.
import type { AdmissionError } from '../executions/admission-error.js';
import type { SyncError } from '../dependencies/sync-error.js';

const ADMISSION_STATUS = {
  'Executor.WrongSession': 409,
  'Executor.ExecutionIdConflict': 409,
  'Executor.ShuttingDown': 503,
  'Executor.TooManyExecutions': 503,
  'Executor.JournalUnavailable': 503,
} as const satisfies Record<AdmissionError['code'], number>;

export function admissionStatus(error: AdmissionError): 409 | 503 {
  return ADMISSION_STATUS[error.code];
}

/** CONTRACT.md section 2: busy is 409, a failed install 422, a refused request 400, the executor's own failure 500. */
export function syncErrorStatus(error: SyncError): 400 | 409 | 422 | 500 {
  if (error.outcome === 'busy') return 409;
  if (error.code === 'Executor.DependencyInstallError') return 422;
  if (error.code === 'Executor.ValidationError') return 400;
  return 500;
}
