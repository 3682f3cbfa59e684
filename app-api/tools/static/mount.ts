/** Where a tool applies: the part of PATH_INFO at and below a mount path (`/static`), as CherryPy's sections. */

/** Normalise a mount path: '' for the root, else `/x/y` without a trailing slash. */
export function normaliseMount(mount: string | undefined): string {
  if (mount === undefined || mount === '' || mount === '/') return '';
  const m = mount.startsWith('/') ? mount : '/' + mount;
  return m.endsWith('/') ? m.slice(0, -1) : m;
}

/** The rest of `pathInfo` below `mount` (`/static/a.css` under `/static` -> `/a.css`), or null when outside. */
export function below(mount: string, pathInfo: string): string | null {
  if (mount === '') return pathInfo;
  if (pathInfo === mount) return '';
  return pathInfo.startsWith(mount + '/') ? pathInfo.slice(mount.length) : null;
}

/** A decoded path written back as a URL path (for a Location header): each segment percent-encoded. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
