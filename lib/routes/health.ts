// GET /_health and /xrpc/_health: liveness for load balancers and operators. Answers
// {"status":"ok"} while the process serves requests; database checks join when SQLite lands.
import { json } from '../http/xrpc.js'
import type { Route } from '../http/router.js'

export const health: Route = {
  method: 'GET',
  paths: ['/_health', '/xrpc/_health'],
  handle: () => json(200, { status: 'ok' }),
}
