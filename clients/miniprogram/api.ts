/**
 * Qiaomen API client for the WeChat mini-program: a small typed wrapper around `wx.request`.
 *
 * `generated/schema.d.ts` is generated from the server's `/openapi.json` by `generate.sh`, so
 * every path, its parameters, its JSON body and its response are checked by `tsc` against the
 * server. Error answers (`application/problem+json`) are thrown as `ApiProblem`; a request that
 * got no HTTP answer at all throws `NetworkError`.
 */
import type { components, paths } from './generated/schema';

// ---------------------------------------------------------------------------------------------
// Types derived from the generated `paths`

/** The methods `wx.request` can send (it has no PATCH). */
export type Method = 'get' | 'post' | 'put' | 'delete';

/** The path templates (e.g. `'/tickets/{id}'`) that have an operation for `M`. */
export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never;
}[keyof paths];

/** The generated operation `M P`. */
export type Operation<P extends keyof paths, M extends Method> =
  paths[P] extends { [K in M]: infer O } ? O : never;

/** The JSON of a body or response: the server documents `application/json; charset=utf-8`. */
type JsonMedia<C> = C[Extract<keyof C, `application/json${string}`>];
type JsonOf<X> = X extends { content: infer C } ? JsonMedia<C> : never;
type Success<R, S> = S extends keyof R ? (R[S] extends { content: infer C } ? JsonMedia<C> : void) : never;

/** The JSON request body of `M P`. */
export type BodyOf<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { requestBody?: infer B } ? JsonOf<B> : never;
/** The query parameters of `M P`. */
export type QueryOf<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { parameters: { query?: infer Q } } ? Q : never;
/** What `M P` resolves to: the JSON of its 200 or 201 response (void for a 204). */
export type ResponseOf<P extends keyof paths, M extends Method> = Operation<P, M> extends { responses: infer R }
  ? Success<R, 200> | Success<R, 201> | Success<R, 204>
  : never;

/** The body of every error answer. */
export type Problem = components['schemas']['Problem'];

/** Options any request takes. */
export interface CallOptions {
  /** The `Idempotency-Key` header: a key, or `true` for a fresh random one. */
  idempotencyKey?: string | true;
  /** Retries after a network failure (never after an HTTP answer), default 0. A POST is retried
   * only with an `idempotencyKey`, and every attempt sends the same key. */
  retries?: number;
  /** Send no `Authorization` header (logging in). */
  anonymous?: boolean;
}

// Each part is required exactly when the operation requires it.
type PathArgs<O> = O extends { parameters: { path: infer X } } ? { path: X } : { path?: undefined };
type QueryArgs<O> = O extends { parameters: { query: infer Q } } ? { query: Q }
  : O extends { parameters: { query?: infer Q } } ? { query?: Q } : { query?: undefined };
type BodyArgs<O> = O extends { requestBody: infer B } ? { body: JsonOf<B> }
  : O extends { requestBody?: infer B } ? { body?: JsonOf<B> } : { body?: undefined };

/** The third argument of `request(M, P, args)`. */
export type RequestArgs<P extends keyof paths, M extends Method> =
  PathArgs<Operation<P, M>> & QueryArgs<Operation<P, M>> & BodyArgs<Operation<P, M>> & CallOptions;

// ---------------------------------------------------------------------------------------------
// Configuration

export interface ClientConfig {
  /** Where the API is mounted, e.g. `https://example.gov.cn/api/v1`; the spec's paths follow. */
  baseUrl: string;
  /** The resident's token; by default `wx.getStorageSync('qiaomen_token')`. */
  getToken: () => string | undefined;
  /** Stores the token `login()` received, or forgets it (`undefined`). */
  setToken: (token: string | undefined) => void;
  /** Called on a `401` to a request that carried a token (expired or revoked), before the throw. */
  onUnauthorized?: (problem: ApiProblem) => void;
  /** `Accept-Language`: problem titles are Chinese by default, English with `en`. */
  language: string;
  /** Milliseconds before `wx.request` gives up (its own default when unset). */
  timeout?: number;
}

export const TOKEN_KEY = 'qiaomen_token';

let config: ClientConfig = {
  baseUrl: '',
  getToken: () => wx.getStorageSync<string>(TOKEN_KEY) || undefined,
  setToken: (token) => (token ? wx.setStorageSync(TOKEN_KEY, token) : wx.removeStorageSync(TOKEN_KEY)),
  language: 'zh-CN',
};

/** Sets the base URL and, optionally, where the token lives and what a `401` does. */
export function configure(options: Partial<ClientConfig> & { baseUrl: string }): void {
  config = { ...config, ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
}

// ---------------------------------------------------------------------------------------------
// Errors

/** An error answer from the API (`application/problem+json`). */
export class ApiProblem extends Error {
  /** Stable machine code, e.g. `invalid_transition`, `rate_limited`. */
  readonly code: string;
  readonly status: number;
  /** Short human title, fit to show the user. */
  readonly title: string;
  readonly detail?: string;
  /** The request field at fault, when one is (mostly with `422`). */
  readonly field?: string;
  /** For a ticket's `409`: the status the ticket is in now. */
  readonly currentStatus?: string;
  /** For a `429`: seconds to wait, from `Retry-After`. */
  readonly retryAfter?: number;

  constructor(status: number, body: Partial<Problem> | undefined, retryAfter?: number) {
    const title = body?.title ?? `HTTP ${status}`;
    super(body?.detail ? `${title}: ${body.detail}` : title);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = body?.code ?? `http_${status}`; // a gateway may answer without a problem body
    this.title = title;
    this.detail = body?.detail;
    this.field = body?.field;
    this.currentStatus = body?.current_status;
    this.retryAfter = retryAfter;
  }
}

/** No HTTP answer: offline, DNS, TLS or timeout (`errMsg` from the `fail` callback). */
export class NetworkError extends Error {
  constructor(readonly errMsg: string) {
    super(errMsg);
    this.name = 'NetworkError';
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * Calls `M P`, e.g. `request('get', '/tickets/{id}', { path: { id } })`, and resolves to the
 * JSON of its success response; throws `ApiProblem` for any non-2xx answer.
 */
export async function request<M extends Method, P extends PathsWith<M>>(
  method: M,
  path: P,
  ...[args]: {} extends RequestArgs<P, M> ? [args?: RequestArgs<P, M>] : [args: RequestArgs<P, M>]
): Promise<ResponseOf<P, M>> {
  const a = (args ?? {}) as LooseArgs;
  const url = apiUrl(fillPath(path, a.path) + queryString(a.query));
  const { header, token } = baseHeaders(a.anonymous);
  if (a.idempotencyKey) {
    header['Idempotency-Key'] = a.idempotencyKey === true ? await newIdempotencyKey() : a.idempotencyKey;
  }
  if (a.body !== undefined) header['Content-Type'] = 'application/json';
  const data = a.body === undefined ? undefined : JSON.stringify(a.body);

  // Retrying a POST without a key could submit it twice, so only keyed POSTs are retried.
  const retries = method === 'post' && !a.idempotencyKey ? 0 : (a.retries ?? 0);
  for (let attempt = 0; ; attempt++) {
    let res: WechatMiniprogram.RequestSuccessCallbackResult<string>;
    try {
      res = await new Promise((resolve, reject) => wx.request<string>({
        url, header, data, timeout: config.timeout,
        method: method.toUpperCase() as Uppercase<Method>,
        dataType: 'text', // not 'json': the body is parsed here, error answers included
        responseType: 'text',
        success: resolve,
        fail: (err) => reject(new NetworkError(err.errMsg)),
      }));
    } catch (e) {
      if (e instanceof NetworkError && attempt < retries) continue;
      throw e;
    }
    return answer(res.statusCode, res.data, token, headerValue(res.header, 'Retry-After'));
  }
}

/** The arguments as the implementation sees them, whatever the operation. */
interface LooseArgs extends CallOptions {
  path?: Record<string, string | number>;
  query?: Record<string, unknown>;
  body?: unknown;
}

function apiUrl(rest: string): string {
  if (!config.baseUrl) throw new Error('qiaomen api: call configure({ baseUrl }) first');
  return config.baseUrl + rest;
}

function baseHeaders(anonymous?: boolean): { header: Record<string, string>; token?: string } {
  const header: Record<string, string> = { 'Accept-Language': config.language };
  const token = anonymous ? undefined : config.getToken();
  if (token) header['Authorization'] = `Bearer ${token}`;
  return { header, token };
}

/** A success's parsed JSON, or the `ApiProblem` thrown for anything else. */
function answer<T>(status: number, text: string, token?: string, retryAfter?: string): T {
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined; // not JSON (a gateway's HTML page): ApiProblem falls back to the status
  }
  if (status >= 200 && status < 300) return body as T;
  const secs = retryAfter === undefined ? NaN : parseInt(retryAfter, 10);
  const problem = new ApiProblem(status, body as Partial<Problem>, Number.isFinite(secs) ? secs : undefined);
  if (status === 401 && token) config.onUnauthorized?.(problem);
  throw problem;
}

/** `'/tickets/{id}'` with `{ id: 'x' }` → `/tickets/x`. */
function fillPath(template: string, params: LooseArgs['path']): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new Error(`qiaomen api: missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}

/** `{ cursor: 'a', limit: 20 }` → `?cursor=a&limit=20`; arrays repeat the name, undefined is left out. */
function queryString(query: LooseArgs['query']): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v != null) parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(v))}`);
    }
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** A response header, whatever the case of its name (it differs between platforms). */
function headerValue(headers: Record<string, unknown>, name: string): string | undefined {
  const key = Object.keys(headers ?? {}).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : String(headers[key]);
}

// ---------------------------------------------------------------------------------------------
// Idempotency keys

/** A random UUID v4: from `wx.getRandomValues` (cryptographic) where available, else Math.random. */
export function newIdempotencyKey(): Promise<string> {
  return new Promise((resolve) => {
    const weak = () => resolve(uuidV4(Uint8Array.from({ length: 16 }, () => (Math.random() * 256) | 0)));
    if (typeof wx.getRandomValues !== 'function') return weak();
    wx.getRandomValues({ length: 16, success: (r) => resolve(uuidV4(new Uint8Array(r.randomValues))), fail: weak });
  });
}

function uuidV4(b: Uint8Array): string {
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// Convenience calls for residents

/**
 * `wx.login`, then `POST /auth/wechat`; stores the token and returns `{ token, resident_id }`.
 * `restore` reopens an account the resident closed, within its grace period.
 */
export async function login(restore = false): Promise<ResponseOf<'/auth/wechat', 'post'>> {
  const { code } = await new Promise<WechatMiniprogram.LoginSuccessCallbackResult>((resolve, reject) =>
    wx.login({ success: resolve, fail: (err) => reject(new NetworkError(err.errMsg)) }));
  const res = await request('post', '/auth/wechat', { body: { code, restore }, anonymous: true });
  config.setToken(res.token);
  return res;
}

/** Forgets the stored token. */
export function logout(): void {
  config.setToken(undefined);
}

/**
 * Submits a ticket with an `Idempotency-Key`, retried twice after a network failure with that
 * key. Make the key once per form (`newIdempotencyKey()`) and pass it again when the user resends
 * the same form: the server then answers with the first ticket (`200`) instead of a second one.
 */
export function submitTicket(body: BodyOf<'/tickets', 'post'>, key?: string): Promise<ResponseOf<'/tickets', 'post'>> {
  return request('post', '/tickets', { body, idempotencyKey: key ?? true, retries: 2 });
}

/** The resident's own tickets, newest first; pass `next_cursor` back as `cursor` for more. */
export function myTickets(query?: QueryOf<'/tickets', 'get'>): Promise<ResponseOf<'/tickets', 'get'>> {
  return request('get', '/tickets', { query });
}

/** One ticket, by id or number, with its timeline; its location in GCJ-02 for `<map>`. */
export function getTicket(id: string): Promise<ResponseOf<'/tickets/{id}', 'get'>> {
  return request('get', '/tickets/{id}', { path: { id }, query: { coord_system: 'gcj02' } });
}

/** Who the signed-in resident is: phone (masked), home building, unused grants per template. */
export function me(): Promise<ResponseOf<'/me', 'get'>> {
  return request('get', '/me', {});
}

/**
 * What is at a point from `wx.getLocation({ type: 'gcj02' })`: whether it is served, its grid,
 * the categories to offer there and the nearest buildings.
 */
export function placeAt(lat: number, lng: number): Promise<ResponseOf<'/areas/at', 'get'>> {
  return request('get', '/areas/at', { query: { lat, lng, coord_system: 'gcj02' } });
}

/**
 * Uploads a photo (a `tempFilePath` from `wx.chooseMedia`) to `POST /attachments` as multipart
 * field `file`; put the returned `id` in the ticket's `attachment_ids`.
 */
export function uploadPhoto(filePath: string): Promise<ResponseOf<'/attachments', 'post'>> {
  const url = apiUrl('/attachments');
  const { header, token } = baseHeaders();
  return new Promise((resolve, reject) => wx.uploadFile({
    url, filePath, name: 'file', header, timeout: config.timeout,
    success: (res) => {
      try {
        resolve(answer(res.statusCode, res.data, token));
      } catch (problem) {
        reject(problem);
      }
    },
    fail: (err) => reject(new NetworkError(err.errMsg)),
  }));
}

/** The resident's inbox, newest first, with `unread_count` (for the tab bar's badge). */
export function notifications(
  query?: QueryOf<'/me/notifications', 'get'>,
): Promise<ResponseOf<'/me/notifications', 'get'>> {
  return request('get', '/me/notifications', { query });
}

/** Marks notifications read (`ids`, or `all: true`); answers the new `unread_count`. */
export function markRead(body: BodyOf<'/me/notifications/read', 'post'>): Promise<ResponseOf<'/me/notifications/read', 'post'>> {
  return request('post', '/me/notifications/read', { body });
}

/**
 * Reports the templates the resident just granted. Call it with what
 * `wx.requestSubscribeMessage({ tmplIds })` answered `accept` for, asking for the templates of
 * the ticket's `suggest_subscribe` at the moment it is shown (after submission: accepted and
 * resolved). A message waiting for one of them is sent at once.
 */
export function granted(templateIds: string[]): Promise<ResponseOf<'/me/subscriptions', 'post'>> {
  return request('post', '/me/subscriptions', { body: { template_ids: templateIds } });
}

/** The privacy notice to show at first use (and again when its `version` changes). */
export function privacyNotice(): Promise<ResponseOf<'/privacy/notice', 'get'>> {
  return request('get', '/privacy/notice', {});
}

/**
 * Records the resident's agreement to `version` of the notice. Until they agree to the current
 * one, `GET /me` says `privacy_notice_pending` and submitting answers `409 privacy_notice_pending`.
 */
export function agreePrivacy(version: string): Promise<ResponseOf<'/me/privacy', 'post'>> {
  return request('post', '/me/privacy', { body: { version } });
}

/**
 * Claims a ticket staff entered for the resident (a hotline call, a counter visit, a door-knock
 * visit) with the code they were given: it becomes theirs to follow and rate. An unknown or used
 * code rejects with `ApiProblem` code `not_found`; too many tries, `rate_limited`.
 */
export function claimTicket(code: string): Promise<ResponseOf<'/tickets/claim', 'post'>> {
  return request('post', '/tickets/claim', { body: { code } });
}

/**
 * The categories the resident's text suggests while they type it (up to three, most likely
 * first, each with a score), nearer the point when given: offer the first as the picker's
 * default, never choose for them.
 */
export function suggestCategory(
  text: string,
  point?: { lat: number; lng: number },
): Promise<ResponseOf<'/categories/suggest', 'post'>> {
  return request('post', '/categories/suggest', {
    body: { text, ...(point ? { ...point, coord_system: 'gcj02' as const } : {}) },
  });
}

/** The 每月一题 topics that hold the resident's tickets, with their progress notes. */
export function myTopics(): Promise<ResponseOf<'/topics', 'get'>> {
  return request('get', '/topics', {});
}

/**
 * Closes the resident's account (《个人信息保护法》第四十七条). Every token stops at once; after
 * the grace period (`anonymise_at`) the account is anonymised. Until then `login(code, true)`
 * reopens it; a plain login answers `409 account_closed` saying until when.
 */
export function closeAccount(): Promise<ResponseOf<'/me/deletion', 'post'>> {
  return request('post', '/me/deletion', { body: { confirm: true } });
}

/**
 * Downloads a copy of the resident's data (a ZIP: `data.json` and their photos) to a temporary
 * file and resolves to its path, e.g. for `wx.shareFileMessage` to send it to themselves. A few
 * copies a day: beyond, `ApiProblem` with code `rate_limited` and `retryAfter`.
 */
export function downloadMyData(): Promise<string> {
  const url = apiUrl('/me/data');
  const { header, token } = baseHeaders();
  return new Promise((resolve, reject) => wx.downloadFile({
    url, header, timeout: (config.timeout ?? 60000) * 6,
    success: (res) => {
      if (res.statusCode === 200) resolve(res.tempFilePath);
      else reject(new ApiProblem(res.statusCode, { code: res.statusCode === 429 ? 'rate_limited' : `http_${res.statusCode}` }));
      if (res.statusCode === 401 && token) config.onUnauthorized?.(new ApiProblem(401, {}));
    },
    fail: (err) => reject(new NetworkError(err.errMsg)),
  }));
}
