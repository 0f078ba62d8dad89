// `ringlay serve`: placeholder until the transport lands (issue 2).
import type { Config } from './config.js'
import { logger } from './logger.js'

export async function serve(config: Config): Promise<number> {
  logger.error('serve', 'not implemented yet', { bind: config.bind })
  return 1
}
