export async function healthcheckCommand(_args: string[]): Promise<number> { throw new Error("not yet"); }
