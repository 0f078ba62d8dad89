// The front door's TypeScript side: every HTTP request that is not a firehose upgrade
// reaches `Router.handle`, which picks a route by exact path and method. Routes live in
// lib/routes/, one file per route (XRPC routes named after their NSID).
import { logger } from '../logger.js'
import type { HttpRequest, HttpResponse, RequestHandler } from '../transport/types.js'
import { xrpcError } from './xrpc.js'

export type Method = 'GET' | 'POST'

export interface Route {
  method: Method
  // Exact paths (no patterns): XRPC paths are fixed, and exact lookup cannot be ambiguous.
  paths: string[]
  handle: RequestHandler
}

// Called once per answered request; `route` is the matched path or "unmatched", so the label
// set stays bounded whatever clients send.
export type RequestObserver = (route: string, status: number) => void

export class Router {
  private readonly table = new Map<string, Map<string, Route>>()

  constructor(
    routes: Route[],
    private readonly observe: RequestObserver = () => {},
  ) {
    for (const route of routes) {
      for (const path of route.paths) {
        const byMethod = this.table.get(path) ?? new Map<string, Route>()
        if (byMethod.has(route.method)) throw new Error(`duplicate route ${route.method} ${path}`)
        byMethod.set(route.method, route)
        this.table.set(path, byMethod)
      }
    }
  }

  // Bound so it can be handed to a transport as its RequestHandler.
  readonly handle = async (req: HttpRequest): Promise<HttpResponse> => {
    const byMethod = this.table.get(req.path)
    const route = byMethod?.get(req.method)
    let res: HttpResponse
    if (byMethod === undefined) {
      res = req.path.startsWith('/xrpc/')
        ? xrpcError(501, 'MethodNotImplemented', `method not implemented: ${req.path.slice(6)}`)
        : xrpcError(404, 'NotFound', `no route for ${req.path}`)
    } else if (route === undefined) {
      res = xrpcError(405, 'MethodNotAllowed', `${req.method} not allowed`, { allow: [...byMethod.keys()].join(', ') })
    } else {
      res = await this.run(route, req)
    }
    this.observe(byMethod === undefined ? 'unmatched' : req.path, res.status)
    return res
  }

  private async run(route: Route, req: HttpRequest): Promise<HttpResponse> {
    try {
      return await route.handle(req)
    } catch (err) {
      logger.error('http', 'route failed', { path: req.path, err: String((err as Error)?.stack ?? err) })
      return xrpcError(500, 'InternalServerError', 'internal server error')
    }
  }
}
