// Why an execution was not admitted. A domain error: src/http/ decides the HTTP status.

export type AdmissionErrorCode = 'Executor.WrongSession' | 'Executor.ExecutionIdConflict' | 'Executor.ShuttingDown' | 'Executor.TooManyExecutions' | 'Executor.JournalUnavailable';

export class AdmissionError extends Error {
  constructor(
    readonly code: AdmissionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AdmissionError';
  }
}
