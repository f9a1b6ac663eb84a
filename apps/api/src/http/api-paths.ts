/** Paths that belong to the API: never answered with the console, never given its policy. */
const apiPath = /^\/(v1|api)(\/|$)|^\/(healthz|readyz|metrics|openapi\.json)$/;

/** The rendered API reference (openapi/docs-routes.ts): a page with a policy of its own. */
export function isDocsPage(path: string): boolean {
  return path === "/docs" || path === "/docs/";
}

export function isApiPath(path: string): boolean {
  return apiPath.test(path);
}

/** The embeddable viewer (viewer-links/embed-routes.ts): pages with a frame policy of their own. */
export function isEmbedPath(path: string): boolean {
  return path.startsWith("/embed/");
}
