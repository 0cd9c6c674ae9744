// The HTTP side of the client: where the two services are, the tokens, problem+json errors, and
// the refresh of an expired access token.
//
// Tokens live in this module's variables only: never in localStorage, sessionStorage, a cookie
// or the URL. A script injected into the page could still use them while the page is open, but
// none can read them from storage afterwards, and a reload or a new tab means logging in again.
//
// Refresh tokens are single-use: presenting one twice ends the whole session (the server takes
// the second use for a stolen token). So at most one refresh is ever in flight: every request
// that meets an expired access token waits for that one refresh, then retries once with the new
// token.

/** An error answer of either service, carrying its problem+json body. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter = null) {
    super(messageOf(status, problem));
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    /** `[{field, message}]` of a 422 answer. */
    this.fieldErrors = Array.isArray(problem?.errors) ? problem.errors : [];
    this.retryAfter = retryAfter;
  }
}

/** The session is over (logged out elsewhere, refresh token refused): log in again. */
export class SessionEnded extends ApiError {
  constructor(problem) {
    super(401, problem ?? { title: 'Unauthorized', status: 401, detail: 'your session has ended' });
    this.name = 'SessionEnded';
  }
}

/** The request never got an answer (network down, server unreachable, or refused by CORS). */
export class NetworkError extends Error {
  constructor(url) {
    super(`could not reach ${new URL(url, location.href).host}; check your connection and try again`);
    this.name = 'NetworkError';
  }
}

function messageOf(status, problem) {
  if (problem && typeof problem.detail === 'string' && problem.detail) return problem.detail;
  if (problem && typeof problem.title === 'string' && problem.title) return problem.title;
  return `the server answered ${status}`;
}

// --- configuration --------------------------------------------------------------------------

const config = {
  /** The auth-service base URL (no trailing slash). */
  authUrl: null,
  /** The todo-service base URL: '' when it is this page's own origin. */
  todoUrl: '',
};

/**
 * Reads `config.json` next to the page: `{auth_url, todo_url?}`. Without `todo_url` the todo API
 * is on the page's own origin.
 */
export async function loadConfig() {
  let data;
  try {
    const res = await fetch(new URL('config.json', location.href), { cache: 'no-cache' });
    if (!res.ok) throw new Error(String(res.status));
    data = await res.json();
  } catch {
    throw new Error('could not load the configuration (config.json); reload the page to try again');
  }
  if (typeof data?.auth_url !== 'string' || !data.auth_url) {
    throw new Error(
      'this client does not know where the auth service is: the server must set TODO_WEB_AUTH_URL',
    );
  }
  config.authUrl = data.auth_url.replace(/\/+$/, '');
  config.todoUrl = typeof data.todo_url === 'string' ? data.todo_url.replace(/\/+$/, '') : '';
  return { ...config };
}

// --- the session, in memory only ----------------------------------------------------------------

/** `{access, refresh, user}` while logged in, else null. */
let session = null;
/** Bumped whenever the session is replaced or dropped, so a late refresh cannot revive it. */
let generation = 0;
/** The refresh in flight, if any: the single flight every expired request waits on. */
let refreshing = null;
const endedListeners = [];

/** The logged-in user (`{id, email, role, ...}`), or null. */
export function currentUser() {
  return session ? session.user : null;
}

export function isAdmin() {
  return session?.user?.role === 'admin';
}

/** Calls `listener(error)` when the session ends on its own (refresh refused). */
export function onSessionEnded(listener) {
  endedListeners.push(listener);
}

function start(tokens) {
  generation += 1;
  session = { access: tokens.access_token, refresh: tokens.refresh_token, user: tokens.user };
}

function drop() {
  generation += 1;
  session = null;
  refreshing = null;
}

function end(error) {
  drop();
  for (const listener of endedListeners) listener(error);
}

// --- HTTP -------------------------------------------------------------------------------------

async function send(url, { method = 'GET', body, token } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // Bearer tokens only: no cookies go anywhere, and nothing is cached.
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new NetworkError(url);
  }
}

async function bodyOf(res) {
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') ?? '';
  if (!type.includes('json')) return null;
  try {
    return await res.json();
  } catch {
    return null;
  }
}

async function errorOf(res) {
  const body = await bodyOf(res);
  const problem =
    body && typeof body === 'object' ? body : { title: res.statusText, status: res.status };
  const retryAfter = res.headers.get('Retry-After');
  return new ApiError(res.status, problem, retryAfter);
}

/** The answer's JSON body (null for 204), or throws its ApiError. */
async function read(res) {
  if (!res.ok) throw await errorOf(res);
  return bodyOf(res);
}

function isCrossOrigin(url) {
  return new URL(url, location.href).origin !== location.origin;
}

/**
 * Whether a 401 says the access token is no longer good (RFC 6750 `error="invalid_token"`), so a
 * refresh may help. A cross-origin answer does not expose `WWW-Authenticate` to scripts (the auth
 * service's CORS policy exposes only a few headers): there, any 401 to a bearer request counts.
 */
function isInvalidToken(res, url) {
  if (res.status !== 401) return false;
  const challenge = res.headers.get('WWW-Authenticate');
  if (challenge === null) return isCrossOrigin(url);
  return /error="?invalid_token"?/i.test(challenge);
}

/**
 * Gets a new access token for a request that was refused with `staleAccess`: joins the refresh
 * in flight if there is one; does nothing if a refresh has already replaced that token; else
 * starts the one refresh. Rejects with SessionEnded (and ends the session) when the auth service
 * refuses the refresh token.
 */
function refreshAfter(staleAccess) {
  if (!session) return Promise.reject(new SessionEnded());
  if (refreshing) return refreshing;
  if (session.access !== staleAccess) return Promise.resolve();
  const gen = generation;
  const refreshToken = session.refresh;
  const flight = (async () => {
    const res = await send(`${config.authUrl}/api/auth/refresh`, {
      method: 'POST',
      body: { refresh_token: refreshToken },
    });
    if (gen !== generation) throw new SessionEnded(); // logged out meanwhile: keep it that way
    if (res.status === 401) {
      const error = await errorOf(res);
      const ended = new SessionEnded({
        ...error.problem,
        detail: `your session has ended (${error.message}); please log in again`,
      });
      end(ended);
      throw ended;
    }
    const tokens = await read(res);
    start(tokens);
  })();
  refreshing = flight;
  const clear = () => {
    if (refreshing === flight) refreshing = null;
  };
  flight.then(clear, clear);
  return flight;
}

/**
 * A bearer request: with the current access token; on a 401 `invalid_token`, after the (single)
 * refresh, once more with the new token.
 */
async function authorized(url, options = {}) {
  if (!session) throw new SessionEnded();
  // A request sent while a refresh is in flight waits for it rather than spend a stale token.
  if (refreshing) await refreshing;
  const used = session.access;
  let res = await send(url, { ...options, token: used });
  if (isInvalidToken(res, url)) {
    await refreshAfter(used);
    if (!session) throw new SessionEnded();
    res = await send(url, { ...options, token: session.access });
    if (isInvalidToken(res, url)) {
      // A token fresh from the auth service refused: the session is over (revoked meanwhile).
      const error = await errorOf(res);
      const ended = new SessionEnded(error.problem);
      end(ended);
      throw ended;
    }
  }
  return read(res);
}

const auth = (path) => `${config.authUrl}${path}`;
const todo = (path) => `${config.todoUrl}${path}`;

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// --- auth-service -----------------------------------------------------------------------------

export async function register({ email, password, first_name, last_name }) {
  const body = { email, password };
  if (first_name) body.first_name = first_name;
  if (last_name) body.last_name = last_name;
  return read(await send(auth('/api/auth/register'), { method: 'POST', body }));
}

/** Logs in; the tokens stay in this module. Returns the user. */
export async function login(email, password) {
  const tokens = await read(
    await send(auth('/api/auth/login'), { method: 'POST', body: { email, password } }),
  );
  start(tokens);
  return tokens.user;
}

/**
 * Ends this session (`everywhere`: every session of the user) at the auth service, and forgets
 * the tokens whatever the answer. Throws if the server could not be told.
 */
export async function logout({ everywhere = false } = {}) {
  if (!session) return;
  try {
    // The refresh token sent must be the newest: let a refresh in flight land first.
    if (refreshing) await refreshing;
    if (!session) return;
    if (everywhere) {
      await authorized(auth('/api/auth/logout-all'), { method: 'POST' });
    } else {
      await authorized(auth('/api/auth/logout'), {
        method: 'POST',
        body: { refresh_token: session.refresh },
      });
    }
  } catch (error) {
    if (!(error instanceof SessionEnded)) throw error;
    // Already over: nothing left to end.
  } finally {
    drop();
  }
}

export async function listUsers({ page = 1, perPage = 20 } = {}) {
  return authorized(auth(`/api/admin/users${query({ page, per_page: perPage })}`));
}

// --- todo-service -----------------------------------------------------------------------------

/** One page of the user's todos; `completed` true/false filters, undefined lists all. */
export async function listTodos({ page = 1, perPage = 10, completed } = {}) {
  return authorized(todo(`/api/todos${query({ page, per_page: perPage, completed })}`));
}

export async function createTodo({ title, description = '' }) {
  return authorized(todo('/api/todos'), { method: 'POST', body: { title, description } });
}

export async function updateTodo(id, changes) {
  return authorized(todo(`/api/todos/${encodeURIComponent(id)}`), { method: 'PATCH', body: changes });
}

export async function deleteTodo(id) {
  return authorized(todo(`/api/todos/${encodeURIComponent(id)}`), { method: 'DELETE' });
}

export async function reports() {
  return authorized(todo('/api/admin/reports'));
}
