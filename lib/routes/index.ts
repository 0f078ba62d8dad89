// Every route the relay serves; lib/server.ts hands this list to the Router.
import type { Route } from '../http/router.js'
import { subscribeRepos } from './com.atproto.sync.subscribeRepos.js'
import { health } from './health.js'
import { root } from './root.js'

export const routes: Route[] = [root, health, subscribeRepos]
