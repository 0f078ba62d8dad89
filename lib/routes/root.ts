// GET /: a one-line banner, so a person who opens the relay's address sees what it is.
import { text } from '../http/xrpc.js'
import type { Route } from '../http/router.js'

export const root: Route = {
  method: 'GET',
  paths: ['/'],
  handle: () => text(200, 'ringlay: an AT Protocol relay. Firehose at /xrpc/com.atproto.sync.subscribeRepos\n'),
}
