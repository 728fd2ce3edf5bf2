/** Small helpers for API Gateway HTTP API (payload v2) events and JSON answers. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { API_ERROR_STATUS, type ApiErrorCode, type ErrorBody } from '../../../contracts/index.ts';
import type { Logger } from '../core/ports.ts';

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string; headers: Record<string, string> };

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** The one error shape: `{ "error": { "code", "message", ...details } }`, status from API_ERROR_STATUS. */
export function apiError(code: ApiErrorCode, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}): HttpResult {
  // code and message first (easier to read), and details can never overwrite them.
  const body: ErrorBody = { error: Object.assign({ code, message }, details, { code, message }) };
  return json(API_ERROR_STATUS[code], body, headers);
}

/** Header lookup that does not care about case (payload v2 lower-cases them, local callers might not). */
export function header(event: Pick<APIGatewayProxyEventV2, 'headers'>, name: string): string | undefined {
  const h = event.headers ?? {};
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === want) return v;
  return undefined;
}

/** The raw body bytes of an event (payload v2 may base64-encode it). */
export function bodyBytes(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/**
 * A logger that adds `keys` to every entry, without touching the shared logger's persistent keys
 * (a warm Lambda must not carry one job's id into the next invocation's logs).
 */
export function withKeys(logger: Logger, keys: Record<string, unknown>): Logger {
  const merge = (extra?: Record<string, unknown>) => ({ ...keys, ...extra });
  return {
    debug: (m, e) => logger.debug(m, merge(e)),
    info: (m, e) => logger.info(m, merge(e)),
    warn: (m, e) => logger.warn(m, merge(e)),
    error: (m, e) => logger.error(m, e instanceof Error ? { ...keys, error: { name: e.name, message: e.message, stack: e.stack } } : merge(e)),
    appendKeys: (k) => Object.assign(keys, k),
  };
}
