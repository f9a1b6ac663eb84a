/** A mistake in a command's flags: the CLI prints it as one line and exits 1, no stack trace. */
export class CliFlagError extends Error {}
