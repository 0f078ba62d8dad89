// POST /admin/pds/requestCrawl {"hostname": "..."}: the operator subscribes the relay to a
// host (HTTP Basic admin). Like the public requestCrawl, but not limited per day, and it may add
// localhost:PORT hosts when --allow-insecure-hosts is set. 200 {} once the subscription started.
import type { AdminAuth } from '../http/admin-auth.js'
import type { Route } from '../http/router.js'
import { crawlResponse } from '../relay/crawl.js'
import type { Crawler } from '../relay/crawl.js'

export function adminRequestCrawl(ctx: { crawler: Crawler; auth: AdminAuth; observe?: (result: string) => void }): Route {
  return {
    method: 'POST',
    paths: ['/admin/pds/requestCrawl'],
    handle: (req) => ctx.auth.check(req) ?? crawlResponse(ctx.crawler, req, true, ctx.observe),
  }
}
