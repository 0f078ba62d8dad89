// HTTP/1.1 over a raw socket, for what fetch cannot do: malformed requests, several requests
// on one keep-alive connection, and seeing whether the server closed the connection.
import { connect, type Socket } from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
}

export interface Exchange {
  responses: RawResponse[]
  // Whether the server closed the connection (before `count` responses, or right after).
  closed: boolean
  // Everything received, for messages.
  raw: string
}

// Writes `request` (any bytes) and collects up to `count` responses; stops when the server
// closes, `idleMs` after the last byte once `count` responses are in, or after `limitMs`.
export function exchange(port: number, request: string | Buffer, count = 1, idleMs = 200, limitMs = 5000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(request))
    let buf = Buffer.alloc(0)
    const responses: RawResponse[] = []
    let timer: NodeJS.Timeout | undefined
    const done = (closed: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ responses, closed, raw: buf.toString('latin1') })
    }
    let parsedUpTo = 0
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      for (;;) {
        const r = parseResponse(buf, parsedUpTo)
        if (r === undefined) break
        responses.push(r.response)
        parsedUpTo = r.end
      }
      clearTimeout(timer)
      if (responses.length >= count) timer = setTimeout(() => done(false), idleMs)
    })
    socket.on('close', () => done(true))
    socket.on('error', () => {})
    // A server that neither answers nor closes: report what there is.
    setTimeout(() => done(false), limitMs).unref()
  })
}

function parseResponse(buf: Buffer, from: number): { response: RawResponse; end: number } | undefined {
  const headEnd = buf.indexOf('\r\n\r\n', from)
  if (headEnd < 0) return undefined
  const lines = buf.subarray(from, headEnd).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1] ?? 0)
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':')
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim()
  }
  const length = Number(headers['content-length'] ?? 0)
  if (buf.length < headEnd + 4 + length) return undefined
  return { response: { status, headers, body: buf.subarray(headEnd + 4, headEnd + 4 + length) }, end: headEnd + 4 + length }
}

export function get(path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`
}
