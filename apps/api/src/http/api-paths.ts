/** Paths that belong to the API: never answered with the console, never given its policy. */
const apiPath = /^\/(v1|api)(\/|$)|^\/(healthz|readyz|metrics)$/;

export function isApiPath(path: string): boolean {
  return apiPath.test(path);
}
