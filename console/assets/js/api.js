// The console's only way to the server: POST /graphql with the session's
// bearer token (kept in sessionStorage, so it ends with the tab).

const TOKEN = 'kefu.console.token';

/** A GraphQL error with its extensions.code (and extensions.allowed …). */
export class ApiError extends Error {
  constructor(message, code, extensions = {}) {
    super(message);
    this.code = code || 'UNKNOWN';
    this.extensions = extensions;
  }
  /** The mutation names the state allows instead (FAILED_PRECONDITION). */
  get allowed() {
    return Array.isArray(this.extensions.allowed) ? this.extensions.allowed : null;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN) || '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN, t);
  else sessionStorage.removeItem(TOKEN);
}

/** gql runs one operation and returns its data, or throws ApiError. */
export async function gql(query, variables = {}) {
  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/graphql-response+json, application/json',
  };
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  let res;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch (e) {
    throw new ApiError(String(e && e.message || e), 'NETWORK');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError('HTTP ' + res.status, 'HTTP_' + res.status);
  }
  if (body.errors && body.errors.length) {
    const e = body.errors[0];
    const ext = e.extensions || {};
    throw new ApiError(e.message, ext.code || (res.status === 401 ? 'UNAUTHENTICATED' : 'HTTP_' + res.status), ext);
  }
  return body.data;
}
