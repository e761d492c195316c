// Calls to the server: the session endpoints, the console's JSON endpoints
// and the public APIs (Timestream Query API, Prometheus query API,
// /metrics, admin). Every state-changing call carries the session's CSRF
// token; a 401 sends the user back to sign-in.

export const session = { csrf: '', authRequired: false, signedIn: false, principal: '', role: '' };

let onSignedOut = () => {};
export function whenSignedOut(fn) { onSignedOut = fn; }

export class APIError extends Error {
  constructor(message, status, type) { super(message); this.status = status; this.type = type || ''; }
}

function headers(extra) {
  const h = new Headers(extra || {});
  if (session.csrf) h.set('X-CSRF-Token', session.csrf);
  return h;
}

async function check(resp) {
  if (resp.status === 401 && session.authRequired) {
    session.signedIn = false;
    onSignedOut();
  }
  if (resp.ok) return resp;
  let msg = await resp.text();
  let type = '';
  try {
    const j = JSON.parse(msg);
    type = (j.__type || '').split('#').pop();
    msg = j.Message || j.message || j.error || msg;
  } catch { /* not JSON */ }
  throw new APIError(msg.trim() || resp.statusText, resp.status, type);
}

export async function getJSON(path, opts) {
  const resp = await check(await fetch(path, { headers: headers(), ...opts }));
  return resp.json();
}

export async function getText(path) {
  const resp = await check(await fetch(path, { headers: headers() }));
  return resp.text();
}

export async function postJSON(path, body) {
  const resp = await check(await fetch(path, {
    method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify(body || {}),
  }));
  return resp.json();
}

function applySession(info) {
  session.authRequired = !!info.auth_required;
  session.signedIn = !!info.signed_in;
  session.csrf = info.csrf_token || '';
  session.principal = info.principal || '';
  session.role = info.role || '';
  return session;
}

export async function loadSession() { return applySession(await getJSON('/console/api/session')); }

export async function signIn(creds) {
  const resp = await fetch('/console/api/signin', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(creds),
  });
  if (!resp.ok) throw new APIError((await resp.text()).trim(), resp.status);
  return applySession(await resp.json());
}

export async function signOut() {
  await postJSON('/console/api/signout');
  applySession({ auth_required: true });
}

// timestream calls an operation of the Timestream Query API.
export async function timestream(op, body, signal) {
  const resp = await check(await fetch('/', {
    method: 'POST', signal,
    headers: headers({ 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'Timestream_20181101.' + op }),
    body: JSON.stringify(body),
  }));
  return resp.json();
}

// canAdmin reports whether the signed-in role may call the admin API.
export function canAdmin() { return !session.authRequired || session.role === 'admin'; }
