// HTTP Basic auth for /admin/* (user `admin`, the --admin-password), as indigo's admin API
// and its tools (goat, the admin UI) expect. Compared in constant time over SHA-256 digests,
// so neither the content nor the length of the password leaks through timing.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { HttpRequest, HttpResponse } from '../transport/types.js'
import { xrpcError } from './xrpc.js'

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

export class AdminAuth {
  private readonly expected: Buffer

  constructor(readonly password: string) {
    this.expected = digest(`admin:${password}`)
  }

  // A random password for a relay started without one (the operator reads it from the log).
  static generatePassword(): string {
    return randomBytes(18).toString('base64url')
  }

  // undefined when the request carries the admin credentials, else the 401 to send.
  check(req: HttpRequest): HttpResponse | undefined {
    const header = req.headers.authorization ?? ''
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
    const given = m === null ? '' : Buffer.from(m[1] as string, 'base64').toString('utf8')
    if (m !== null && timingSafeEqual(digest(given), this.expected)) return undefined
    return xrpcError(401, 'AuthenticationRequired', 'admin credentials required (HTTP Basic, user admin)', { 'www-authenticate': 'Basic realm="admin"' })
  }
}
