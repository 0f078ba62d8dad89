#!/usr/bin/env node
// ringlay command line: `ringlay serve [options]`, `ringlay --help`.
import { ConfigError, helpText, parseConfig } from './config.js'
import { logger } from './logger.js'

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
    console.log(helpText())
    return 0
  }
  if (command !== 'serve') {
    console.error(`ringlay: unknown command ${command}\n\n${helpText()}`)
    return 2
  }
  let config
  try {
    config = parseConfig(rest)
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`ringlay: ${err.message}`)
      return 2
    }
    throw err
  }
  const { serve } = await import('./server.js')
  return serve(config)
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    logger.error('cli', 'fatal', { err: String((err as Error)?.stack ?? err) })
    process.exitCode = 1
  },
)
