// Response helpers shared by the routes: JSON bodies and XRPC error bodies
// ({"error": Name, "message": text}), the shape atproto clients parse.
import type { HttpResponse } from '../transport/types.js'

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) }
}

export function xrpcError(status: number, error: string, message?: string, headers: Record<string, string> = {}): HttpResponse {
  return json(status, message === undefined ? { error } : { error, message }, headers)
}

export function text(status: number, body: string): HttpResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body }
}
