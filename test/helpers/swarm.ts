// Runs consumer-swarm.ts in a child process and waits for its verdict.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { SwarmResult } from './consumer-swarm.js'

export type { SwarmResult }

export class ConsumerSwarm {
  // Messages received by all consumers together, as last reported (with progressEvery).
  progress = 0

  private constructor(
    private readonly child: ChildProcess,
    private readonly result: Promise<SwarmResult>,
  ) {}

  // Resolves once all `count` consumers are upgraded.
  static start(port: number, count: number, expect: number, progressEvery?: number): Promise<ConsumerSwarm> {
    const path = fileURLToPath(new URL('./consumer-swarm.js', import.meta.url))
    const child = fork(path, [JSON.stringify({ port, count, expect, progressEvery })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let swarm: ConsumerSwarm | undefined
    let ready: () => void
    let failed: (err: Error) => void
    const readyP = new Promise<void>((res, rej) => {
      ready = res
      failed = rej
    })
    const result = new Promise<SwarmResult>((resolve, reject) => {
      child.on('message', (msg: { type: string; result?: SwarmResult; messages?: number }) => {
        if (msg.type === 'ready') ready()
        if (msg.type === 'progress' && swarm !== undefined) swarm.progress = msg.messages ?? 0
        if (msg.type === 'done') resolve(msg.result as SwarmResult)
      })
      child.on('exit', (code) => {
        const err = new Error(`consumer swarm exited (${code})`)
        failed(err)
        reject(err)
      })
    })
    result.catch(() => {})
    return readyP.then(() => (swarm = new ConsumerSwarm(child, result)))
  }

  // The verdict: when every consumer is done, or what they have after `timeoutMs`.
  async done(timeoutMs: number): Promise<SwarmResult> {
    const timer = setTimeout(() => this.child.send({ type: 'report' }), timeoutMs)
    try {
      return await this.result
    } finally {
      clearTimeout(timer)
    }
  }

  stop(): void {
    this.child.kill()
  }
}
